import type { KernelModel, ResourceRequest } from '../types.ts';
import { connectChannel, type KernelChannel } from './kernel-channel.ts';

export type { KernelModel };

/** Where the gateway is and who is calling. */
export interface GatewayClientOptions {
  /** http(s)://host:port */
  baseUrl: string;
  /** Admin token (then pass `workspaceId`) or a workspace token from `workspaceToken()`. */
  token: string;
  workspaceId?: string;
  fetch?: typeof fetch;
}

/** A non-2xx answer from the gateway, carrying Jupyter's `{message, reason}` and Kiln's `code`. */
export class GatewayError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

/** Typed client for the kernel gateway (also works against a stock Jupyter Server). */
export function createGatewayClient(options: GatewayClientOptions) {
  const doFetch = options.fetch ?? fetch;
  const headers: Record<string, string> = {
    authorization: `token ${options.token}`,
    ...(options.workspaceId ? { 'x-kiln-workspace': options.workspaceId } : {}),
  };

  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await doFetch(`${options.baseUrl}${path}`, {
      method,
      headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    const json = text ? JSON.parse(text) : undefined;
    if (!response.ok) {
      throw new GatewayError(response.status, json?.message ?? response.statusText, json?.code);
    }
    return json as T;
  }

  return {
    listKernels: () => call<KernelModel[]>('GET', '/api/kernels'),
    getKernel: (id: string) => call<KernelModel>('GET', `/api/kernels/${id}`),
    startKernel: (
      body: {
        name?: string;
        env?: Record<string, string>;
        resources?: Partial<ResourceRequest>;
        /** Kiln: the scheduler's container this kernel runs as (required by a gateway that is a node). */
        containerId?: string;
      } = {},
    ) => call<KernelModel>('POST', '/api/kernels', body),
    shutdownKernel: (id: string) => call<void>('DELETE', `/api/kernels/${id}`),
    interruptKernel: (id: string) => call<void>('POST', `/api/kernels/${id}/interrupt`),
    restartKernel: (id: string) => call<KernelModel>('POST', `/api/kernels/${id}/restart`),
    /** Opens the kernel's channels websocket. */
    connect(
      kernelId: string,
      channel: { sessionId?: string; protocol?: 'v1' | 'legacy' } = {},
    ): Promise<KernelChannel> {
      return connectChannel({
        url: `${options.baseUrl.replace(/^http/, 'ws')}/api/kernels/${kernelId}/channels`,
        token: options.token,
        headers: options.workspaceId ? { 'x-kiln-workspace': options.workspaceId } : {},
        ...channel,
      });
    },
  };
}

export type GatewayClient = ReturnType<typeof createGatewayClient>;
