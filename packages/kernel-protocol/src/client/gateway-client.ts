import type { KernelModel, ResourceRequest, VolumeMountSpec } from '../types.ts';
import { type ChannelOptions, connectChannel, type KernelChannel } from './kernel-channel.ts';

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

/** A workspace image build on a gateway: its content key, state, log from the asked offset, and result. */
export interface ImageBuildView {
  key: string;
  state: 'queued' | 'building' | 'ready' | 'failed';
  log: string;
  /** Offset of the next log read. */
  next: number;
  error?: string;
  /** Bytes the image adds to the base image. */
  sizeBytes?: number;
  startedAt?: string;
  finishedAt?: string;
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
        /** Kiln: named volumes to mount (from @kiln/volumes' `volumeMounts`). */
        volumes?: VolumeMountSpec[];
        /** Kiln: the scheduler's container this kernel runs as (required by a gateway that is a node). */
        containerId?: string;
        /** Kiln: the workspace image (packages over the base image) to run on; the gateway builds it if missing. */
        image?: { debian?: string[]; python?: string[] };
        /**
         * Kiln: Python the kernel should already have run (code that reads no secrets); the model's
         * `started_from` is `module` when it was restored from a snapshot taken after running it, and
         * otherwise the caller runs it itself.
         */
        module?: { code: string };
      } = {},
    ) => call<KernelModel>('POST', '/api/kernels', body),
    /** Kiln: starts building a workspace image on this gateway (or finds it built). */
    buildImage: (spec: { debian?: string[]; python?: string[] }) =>
      call<ImageBuildView>('POST', '/kiln/images/builds', spec),
    /** Kiln: a build's state and its log from `offset`. */
    imageBuild: (key: string, offset = 0) =>
      call<ImageBuildView>('GET', `/kiln/images/builds/${encodeURIComponent(key)}?offset=${offset}`),
    /**
     * Kiln (the gateway's own token): deletes the built images not in `keep` that no kernel there runs
     * on; says which it removed and which it kept for running kernels.
     */
    pruneImages: (keep: string[]) =>
      call<{ removed: string[]; inUse: string[] }>('POST', '/kiln/images/prune', { keep }),
    /** Stops the kernel; with `reason` (Kiln), its clients are told it died and why. */
    shutdownKernel: (id: string, reason?: string) =>
      call<void>('DELETE', `/api/kernels/${id}${reason ? `?reason=${encodeURIComponent(reason)}` : ''}`),
    /** With `executionId` (Kiln), only that execute_request is interrupted, if it is the one running. */
    interruptKernel: (id: string, executionId?: string) =>
      call<void>(
        'POST',
        `/api/kernels/${id}/interrupt${executionId ? `?execution=${encodeURIComponent(executionId)}` : ''}`,
      ),
    restartKernel: (id: string) => call<KernelModel>('POST', `/api/kernels/${id}/restart`),
    /**
     * Kiln: checkpoints the kernel now, variables kept; any later message wakes it. With `reason`, the
     * kernel's clients are told it is paused and why (a `kiln_paused` status message).
     */
    hibernateKernel: (id: string, reason?: string) =>
      call<KernelModel>('POST', `/api/kernels/${id}/hibernate`, reason ? { reason } : undefined),
    /** Opens the kernel's channels websocket. */
    connect(
      kernelId: string,
      channel: Pick<ChannelOptions, 'sessionId' | 'protocol' | 'ack'> = {},
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
