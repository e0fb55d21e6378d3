export type { Gateway, GatewayOptions } from './http/gateway.ts';
export { createGateway } from './http/gateway.ts';
export type { KernelModel } from './kernels/kernel.ts';
