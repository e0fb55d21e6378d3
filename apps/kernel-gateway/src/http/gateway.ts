import { createServer, type IncomingMessage, type Server, STATUS_CODES } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { DomainError, isDomainError } from '@kiln/core';
import { KILN_ACK, V1_PROTOCOL } from '@kiln/kernel-protocol';
import { WebSocketServer } from 'ws';
import { addVolumeRoutes, type VolumeRouteOptions } from '../files/volume-routes.ts';
import type { ImageBuilder } from '../images/image-builder.ts';
import { addImageRoutes } from '../images/image-routes.ts';
import { attachChannelsSocket } from '../kernels/channels-socket.ts';
import {
  type KernelAdmission,
  type KernelMaximums,
  KernelRegistry,
  type KernelRegistryOptions,
} from '../kernels/kernel-registry.ts';
import { addKernelRoutes } from '../kernels/kernel-routes.ts';
import type { EnvSeal } from '../sandbox/env-seal.ts';
import type { ResourceRequest, SandboxDriver } from '../sandbox/types.ts';
import { addSessionRoutes } from '../sessions/session-routes.ts';
import { SessionStore } from '../sessions/session-store.ts';
import { TerminalRegistry } from '../terminals/terminal-registry.ts';
import { addTerminalRoutes } from '../terminals/terminal-routes.ts';
import { attachTerminalSocket } from '../terminals/terminal-socket.ts';
import { authenticate } from './auth.ts';
import { errorBody, sendError, sendJson } from './respond.ts';
import { MethodNotAllowed, Router } from './router.ts';

/** Everything the gateway needs; only `driver` and `token` are required. */
export interface GatewayOptions {
  driver: SandboxDriver;
  /** Admin secret; also the HMAC key of workspace tokens. */
  token: string;
  /** Standalone only: kernels one workspace may run here (a scheduler node follows the plans instead). */
  maxKernelsPerWorkspace?: number;
  /** The operator's ceiling on one kernel's CPU and memory. */
  maxResources?: KernelMaximums;
  /** Set when the gateway is a scheduler node: every kernel is a container the scheduler placed here. */
  admission?: KernelAdmission;
  defaultResources?: ResourceRequest;
  outputBufferBytes?: number;
  maxMessageBytes?: number;
  kernelInfoTimeoutMs?: number;
  cullIdleMs?: number;
  cullIntervalMs?: number;
  cullConnected?: boolean;
  /** Checkpoint kernels idle this long and wake them on their next message (0, the default: never). */
  hibernateIdleMs?: number;
  onHibernateFailed?: KernelRegistryOptions['onHibernateFailed'];
  pingIntervalMs?: number;
  /** Where each workspace's volumes live on this host; without it the file API answers 404. */
  volumes?: VolumeRouteOptions['volumes'];
  /** Frees a named volume's disk on this node. */
  destroyVolume?: VolumeRouteOptions['destroy'];
  volumeOwner?: VolumeRouteOptions['owner'];
  /** Whether this node may serve a disk now (a scheduler node's `diskRefusal`); without it, always. */
  diskRefusal?: VolumeRouteOptions['refusal'];
  maxUploadBytes?: number;
  /** Builds workspace images (`/kiln/images/builds`); without it those routes answer 404. */
  images?: ImageBuilder;
  /** Kernel records for re-adoption after a crash (`kernels.adopt()`); see KernelRegistryOptions. */
  recordDir?: string;
  /** Seals kernels' env in their records (see KernelRegistryOptions). */
  envSeal?: EnvSeal;
}

const DEFAULTS = {
  maxKernelsPerWorkspace: 100,
  maxResources: { cpu: 64, memoryMiB: 256 * 1024 } as KernelMaximums,
  defaultResources: { cpu: 1, memoryMiB: 2048, gpu: null } as ResourceRequest,
  outputBufferBytes: 10 * 1024 * 1024,
  maxMessageBytes: 10 * 1024 * 1024,
  kernelInfoTimeoutMs: 60_000,
  cullIdleMs: 0,
  cullIntervalMs: 60_000,
  cullConnected: false,
  hibernateIdleMs: 0,
  pingIntervalMs: 30_000,
  maxUploadBytes: 512 * 1024 * 1024,
};

/** A running gateway: its HTTP server, registries, and how to stop it. */
export interface Gateway {
  server: Server;
  kernels: KernelRegistry;
  listen(port: number, host?: string): Promise<{ port: number; url: string }>;
  close(): Promise<void>;
}

const KERNEL_CHANNELS = /^\/api\/kernels\/([^/]+)\/channels\/?$/;
const TERMINAL_SOCKET = /^\/terminals\/websocket\/([^/]+)\/?$/;

/** Builds the Jupyter Server-compatible gateway over a sandbox driver. */
export function createGateway(input: GatewayOptions): Gateway {
  const options = { ...DEFAULTS, ...input };
  const registryOptions: KernelRegistryOptions = {
    driver: options.driver,
    maxKernelsPerWorkspace: options.maxKernelsPerWorkspace,
    admission: options.admission,
    maxResources: options.maxResources,
    defaultResources: options.defaultResources,
    outputBufferBytes: options.outputBufferBytes,
    kernelInfoTimeoutMs: options.kernelInfoTimeoutMs,
    cullIdleMs: options.cullIdleMs,
    cullIntervalMs: options.cullIntervalMs,
    cullConnected: options.cullConnected,
    hibernateIdleMs: options.hibernateIdleMs,
    onHibernateFailed: options.onHibernateFailed,
    recordDir: options.recordDir,
    envSeal: options.envSeal,
  };
  const kernels = new KernelRegistry(registryOptions);
  const sessions = new SessionStore(kernels);
  const terminals = new TerminalRegistry(kernels);
  const started = new Date();

  const router = new Router()
    .add('GET', '/api', ({ response }) => sendJson(response, 200, { version: '2.14.0', kiln: true }))
    .add('GET', '/api/status', ({ response, caller }) =>
      sendJson(response, 200, {
        started: started.toISOString(),
        last_activity: new Date().toISOString(),
        kernels: kernels.list(caller.workspaceId).length,
        connections: kernels.list(caller.workspaceId).reduce((sum, kernel) => sum + kernel.connections, 0),
      }),
    );
  const needsUpgrade = () => {
    throw new DomainError('BAD_REQUEST', 'This endpoint is a websocket: send an Upgrade request');
  };
  router
    .add('GET', '/api/kernels/:id/channels', needsUpgrade)
    .add('GET', '/terminals/websocket/:name', needsUpgrade);
  addKernelRoutes(router, kernels, options.defaultResources);
  addSessionRoutes(router, sessions, kernels, options.defaultResources);
  addTerminalRoutes(router, terminals);
  addVolumeRoutes(router, {
    volumes: options.volumes ?? (async () => null),
    destroy: options.destroyVolume,
    refusal: options.diskRefusal,
    owner: options.volumeOwner,
    maxUploadBytes: options.maxUploadBytes,
  });
  const imagesInUse = () => kernels.all().flatMap((kernel) => (kernel.image ? [kernel.image] : []));
  addImageRoutes(router, options.images, imagesInUse);
  // A build kept only for its kernels goes after the last of them (once its sandbox is surely torn down).
  kernels.onRemoved((kernel) => {
    if (!kernel.image || !options.images) return;
    const images = options.images;
    setTimeout(() => void images.pruneDeferred(imagesInUse()).catch(() => undefined), 30_000).unref();
  });

  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://gateway');
    void (async () => {
      try {
        const { handler, params } = router.match(request.method ?? 'GET', url.pathname);
        const caller = authenticate(request, url, options.token);
        await handler({ request, response, url, caller, params });
      } catch (error) {
        if (error instanceof MethodNotAllowed)
          sendJson(response, 405, errorBody(405, error.message, 'METHOD_NOT_ALLOWED'));
        else sendError(response, error);
      }
    })();
  });

  const channels = new WebSocketServer({
    noServer: true,
    maxPayload: options.maxMessageBytes,
    handleProtocols: (protocols) => (protocols.has(V1_PROTOCOL) ? V1_PROTOCOL : false),
  });
  const terminalSockets = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });

  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(request.url ?? '/', 'http://gateway');
    try {
      const kernelMatch = KERNEL_CHANNELS.exec(url.pathname);
      const terminalMatch = TERMINAL_SOCKET.exec(url.pathname);
      if (!kernelMatch && !terminalMatch)
        throw new DomainError('NOT_FOUND', `No websocket endpoint at ${url.pathname}`);
      const caller = authenticate(request, url, options.token);
      if (kernelMatch) {
        const kernel = kernels.get(caller.workspaceId, decodeURIComponent(kernelMatch[1] ?? ''));
        const sessionId = url.searchParams.get('session_id') || crypto.randomUUID();
        // Kiln's acknowledgement extension, opted into by the web process (plain clients never send it).
        const ack = url.searchParams.has(KILN_ACK)
          ? { lastStored: url.searchParams.get(KILN_ACK) || null }
          : undefined;
        channels.handleUpgrade(request, socket, head, (ws) =>
          attachChannelsSocket(ws, kernel, sessionId, ack),
        );
      } else {
        const terminal = terminals.get(caller.workspaceId, decodeURIComponent(terminalMatch?.[1] ?? ''));
        terminalSockets.handleUpgrade(request, socket, head, (ws) => attachTerminalSocket(ws, terminal));
      }
    } catch (error) {
      rejectUpgrade(socket, error);
    }
  });

  const ping = setInterval(() => {
    for (const client of [...channels.clients, ...terminalSockets.clients]) client.ping();
  }, options.pingIntervalMs);
  ping.unref();

  return {
    server,
    kernels,
    listen(port, host = '127.0.0.1') {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          const address = server.address() as AddressInfo;
          resolve({ port: address.port, url: `http://${host}:${address.port}` });
        });
      });
    },
    async close() {
      clearInterval(ping);
      terminals.close();
      await kernels.close();
      for (const client of [...channels.clients, ...terminalSockets.clients]) client.terminate();
      channels.close();
      terminalSockets.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Answers a refused websocket upgrade with a plain HTTP error carrying Jupyter's JSON body. */
function rejectUpgrade(socket: Duplex, error: unknown): void {
  const status = isDomainError(error) ? error.status : 500;
  const message = isDomainError(error) ? error.message : 'The gateway hit an unexpected error';
  const code = isDomainError(error) ? error.code : 'INTERNAL';
  const body = JSON.stringify(errorBody(status, message, code));
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
