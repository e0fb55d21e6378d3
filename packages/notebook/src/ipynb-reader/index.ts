export { type ReadIpynb, readIpynb } from './read-ipynb.ts';
