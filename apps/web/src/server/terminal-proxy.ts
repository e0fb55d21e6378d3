import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { can } from '@kiln/accounts';
import { CloseCode, DomainError, isDomainError } from '@kiln/core';
import type { Db } from '@kiln/db';
import { workspaceToken } from '@kiln/kernel-protocol/client';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import { authorizeNotebookSocket } from './notebook-access.ts';

export interface TerminalProxyOptions {
  db: Db;
  appUrl: string;
  /**
   * The kernel gateways' secret, and where a kernel runs: `url` for a single gateway, else `locate`
   * finds the node the scheduler placed the workspace's kernel on. Null when there is no gateway.
   */
  gateway: {
    url: string | null;
    secret: string;
    locate?(workspaceId: string, kernelId: string): Promise<string | null>;
  } | null;
}

/** Close code and reason the terminal panel shows when no gateway is configured. */
export const GATEWAY_NOT_CONFIGURED = 'The kernel gateway is not configured';

const KERNEL_ID = /^[A-Za-z0-9-]{1,100}$/;

function closeFor(error: unknown): [number, string] {
  if (!isDomainError(error)) return [CloseCode.internalError, 'Terminal failed'];
  const code =
    {
      UNAUTHENTICATED: CloseCode.unauthenticated,
      FORBIDDEN: CloseCode.forbidden,
      NOT_FOUND: CloseCode.notFound,
      KERNEL_DEAD: CloseCode.kernelDead,
    }[error.code as string] ?? CloseCode.internalError;
  return [code, error.message.slice(0, 120)];
}

/** Asks the gateway for a shell in the notebook's kernel sandbox; returns the terminal's name. */
async function createTerminal(url: string, token: string, kernelId: string | null): Promise<string> {
  const response = await fetch(`${url}/api/terminals`, {
    method: 'POST',
    headers: { authorization: `token ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(kernelId ? { kernel_id: kernelId } : {}),
  });
  const body = (await response.json().catch(() => ({}))) as { name?: string; message?: string };
  if (response.status === 404) throw new DomainError('KERNEL_DEAD', 'Start the kernel (run a cell) first');
  if (!response.ok || !body.name) {
    throw new DomainError('KERNEL_DEAD', body.message ?? `The gateway answered ${response.status}`);
  }
  return body.name;
}

/**
 * `/terminals/<notebookId>?kernel=<kernelId>`: a shell in the notebook's kernel sandbox for its
 * workspace's editors, proxied to the gateway's terminado socket with a workspace-scoped token.
 */
export function createTerminalProxy(options: TerminalProxyOptions) {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  const users = new Map<WebSocket, string>();

  async function open(client: WebSocket, request: IncomingMessage, notebookId: string): Promise<void> {
    const access = await authorizeNotebookSocket(options.db, request, notebookId, options);
    if (!can(access.role, 'notebook.run')) {
      throw new DomainError('FORBIDDEN', 'Viewers cannot open a terminal');
    }
    users.set(client, access.userId);
    client.on('close', () => users.delete(client));
    if (!options.gateway) throw new DomainError('NOT_FOUND', GATEWAY_NOT_CONFIGURED);
    const kernel = new URL(request.url ?? '/', 'http://x').searchParams.get('kernel');
    const kernelId = kernel && KERNEL_ID.test(kernel) ? kernel : null;
    const token = workspaceToken(options.gateway.secret, access.workspaceId);
    const located = kernelId ? await options.gateway.locate?.(access.workspaceId, kernelId) : null;
    const url = located ?? options.gateway.url;
    if (!url) throw new DomainError('KERNEL_DEAD', 'Start the kernel (run a cell) first');
    const name = await createTerminal(url, token, kernelId);
    const upstream = new WebSocket(
      `${url.replace(/^http/, 'ws')}/terminals/websocket/${encodeURIComponent(name)}`,
      { headers: { authorization: `token ${token}` } },
    );
    const pending: RawData[] = [];
    client.on('message', (data) => {
      if (upstream.readyState === WebSocket.OPEN) upstream.send(data.toString());
      else pending.push(data);
    });
    upstream.on('open', () => {
      for (const data of pending.splice(0)) upstream.send(data.toString());
    });
    upstream.on('message', (data) => {
      if (client.readyState === WebSocket.OPEN) client.send(data.toString());
    });
    upstream.on('close', (code, reason) => {
      if (client.readyState === WebSocket.OPEN) client.close(code >= 4000 ? code : 1000, reason.toString());
    });
    upstream.on('error', () => {
      if (client.readyState === WebSocket.OPEN) client.close(CloseCode.internalError, 'Gateway unreachable');
    });
    client.on('close', () => upstream.close());
  }

  return {
    handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer, notebookId: string): void {
      wss.handleUpgrade(request, socket, head, (client) => {
        open(client, request, notebookId.replace(/\/$/, '')).catch((error: unknown) => {
          if (!isDomainError(error)) console.error('[terminal] proxy failed:', error);
          if (client.readyState === WebSocket.OPEN) client.close(...closeFor(error));
        });
      });
    },
    /** Closes a user's terminals, e.g. when they lost the right to run code; returns how many. */
    disconnectUser(userId: string): number {
      let closed = 0;
      for (const [client, owner] of users) {
        if (owner !== userId) continue;
        client.close(CloseCode.accessChanged, 'access changed');
        closed++;
      }
      return closed;
    },
    close(): void {
      for (const client of wss.clients) client.close(CloseCode.goingAway, 'server shutting down');
      wss.close();
    },
  };
}
