export { type IpynbToYDocOptions, ipynbToYDoc, type YDocToIpynbOptions, yDocToIpynb } from './convert.ts';
export { detectIpynbStyle, type IpynbFileStyle, serializeIpynbLike } from './file-style.ts';
export { fileNbformat, parseIpynb } from './parse.ts';
export { pythonJsonDumps } from './python-json.ts';
export { serializeIpynb } from './serialize.ts';
export { pySplitLinesKeepEnds } from './split-lines.ts';
