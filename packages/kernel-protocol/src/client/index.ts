export type { GatewayClient, GatewayClientOptions, ImageBuildView, KernelModel } from './gateway-client.ts';
export { createGatewayClient, GatewayError } from './gateway-client.ts';
export type { ChannelOptions, ExecuteResult, JupyterMessage } from './kernel-channel.ts';
export { ChannelRefused, connectChannel, KernelChannel } from './kernel-channel.ts';
export { isWorkspaceId, verifyWorkspaceToken, workspaceToken } from './workspace-token.ts';
