export { createImageBuilder, type ImageBuilder, type ImageBuilderOptions } from '../images/image-builder.ts';
export { createRunscDriver } from './runsc-driver.ts';
export { probeRunsc } from './runsc-probe.ts';
export { ensureSandboxImage } from './sandbox-image.ts';
export type * from './types.ts';
