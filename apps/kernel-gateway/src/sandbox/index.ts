export { createRunscDriver } from './runsc-driver.ts';
export { ensureSandboxImage } from './sandbox-image.ts';
export type * from './types.ts';
