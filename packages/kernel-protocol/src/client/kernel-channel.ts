import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { buildMessage, KILN_ACK } from '../messages.ts';
import type { JupyterMessage } from '../types.ts';
import { decodeLegacy, decodeV1, encodeLegacy, encodeV1, V1_PROTOCOL } from '../wire-protocol.ts';

export type { JupyterMessage };

/** How to open a kernel's channels websocket. */
export interface ChannelOptions {
  /** ws(s)://host:port/api/kernels/<id>/channels */
  url: string;
  token?: string;
  headers?: Record<string, string>;
  /** Jupyter's client session id; reuse it to get output buffered while disconnected. */
  sessionId?: string;
  /** `v1` (binary framing, default) or `legacy` (JSON text frames). */
  protocol?: 'v1' | 'legacy';
  /**
   * Kiln's acknowledgement extension: this client will `acknowledge()` what it stored, and the gateway
   * replays what it sent this session and was not acknowledged, from after `lastStored` (the msg_id of
   * the last message the client stored; null: none).
   */
  ack?: { lastStored: string | null };
}

/** What an execute_request produced: its iopub messages in order, and the shell reply. */
export interface ExecuteResult {
  reply: JupyterMessage;
  iopub: JupyterMessage[];
}

/** One open kernel websocket with request/reply helpers. */
export class KernelChannel {
  private readonly listeners = new Set<(message: JupyterMessage) => void>();
  // Replayed output can arrive in the same packet as the handshake, before anyone has subscribed.
  private early: JupyterMessage[] | null = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  constructor(
    readonly socket: WebSocket,
    readonly sessionId: string,
  ) {
    const v1 = socket.protocol === V1_PROTOCOL;
    socket.on('message', (data, isBinary) => {
      const frame = Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer);
      const message = v1 && isBinary ? decodeV1(frame) : decodeLegacy(frame, isBinary);
      if (this.early && this.early.length < 100_000) this.early.push(message);
      for (const listener of this.listeners) listener(message);
    });
    this.closed = new Promise((resolve) =>
      socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
  }

  get protocol(): 'v1' | 'legacy' {
    return this.socket.protocol === V1_PROTOCOL ? 'v1' : 'legacy';
  }

  /** Subscribes; the first subscriber also receives what arrived before anyone subscribed. */
  onMessage(listener: (message: JupyterMessage) => void): () => void {
    this.listeners.add(listener);
    const early = this.early;
    this.early = null;
    for (const message of early ?? []) listener(message);
    return () => this.listeners.delete(listener);
  }

  /** Builds a request in this client's session. */
  message(
    channel: JupyterMessage['channel'],
    msgType: string,
    content: Record<string, unknown>,
    buffers: Uint8Array[] = [],
  ): JupyterMessage {
    return buildMessage({ channel, msgType, content, session: this.sessionId, buffers });
  }

  send(message: JupyterMessage): void {
    const frame = this.protocol === 'v1' ? encodeV1(message) : encodeLegacy(message);
    this.socket.send(frame, { binary: typeof frame !== 'string' });
  }

  /** Kiln extension (a channel opened with `ack`): everything received up to `msgId` is stored. */
  acknowledge(msgId: string): void {
    this.send(this.message('control', KILN_ACK, { msg_id: msgId }));
  }

  /** Sends a request and resolves with the first message on the same channel answering it. */
  request(
    channel: 'shell' | 'control',
    msgType: string,
    content: Record<string, unknown>,
    timeoutMs = 30_000,
  ): Promise<JupyterMessage> {
    const request = this.message(channel, msgType, content);
    return this.awaitReply(request, timeoutMs, () => true);
  }

  /** Runs code and collects every iopub message it caused until both the reply and `idle` arrived. */
  execute(
    code: string,
    options: { timeoutMs?: number; allowStdin?: boolean; onMessage?: (message: JupyterMessage) => void } = {},
  ): Promise<ExecuteResult> {
    const request = this.message('shell', 'execute_request', {
      code,
      silent: false,
      store_history: true,
      user_expressions: {},
      allow_stdin: options.allowStdin ?? false,
      stop_on_error: true,
    });
    const iopub: JupyterMessage[] = [];
    let idle = false;
    let reply: JupyterMessage | undefined;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error(`execute_request got no reply and idle within ${options.timeoutMs ?? 60_000} ms`));
      }, options.timeoutMs ?? 60_000);
      const finish = () => {
        if (!idle || !reply) return;
        clearTimeout(timer);
        off();
        resolve({ reply, iopub });
      };
      const off = this.onMessage((message) => {
        if (message.parent_header.msg_id !== request.header.msg_id) return;
        options.onMessage?.(message);
        if (message.channel === 'iopub') {
          iopub.push(message);
          if (message.header.msg_type === 'status' && message.content.execution_state === 'idle') idle = true;
        } else if (message.channel === 'shell') {
          reply = message;
        }
        finish();
      });
      this.send(request);
    });
  }

  /** Closes the socket; a peer that does not answer the close handshake within 5 s is cut off. */
  close(): Promise<{ code: number; reason: string }> {
    this.socket.close();
    const timer = setTimeout(() => this.socket.terminate(), 5000);
    return this.closed.finally(() => clearTimeout(timer));
  }

  private awaitReply(
    request: JupyterMessage,
    timeoutMs: number,
    accept: (message: JupyterMessage) => boolean,
  ): Promise<JupyterMessage> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error(`${request.header.msg_type} got no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      const off = this.onMessage((message) => {
        if (
          message.channel === request.channel &&
          message.parent_header.msg_id === request.header.msg_id &&
          accept(message)
        ) {
          clearTimeout(timer);
          off();
          resolve(message);
        }
      });
      this.send(request);
    });
  }
}

/** Opens a kernel channels websocket; rejects with the HTTP status when the upgrade is refused. */
export function connectChannel(options: ChannelOptions): Promise<KernelChannel> {
  const sessionId = options.sessionId ?? randomUUID();
  const url = new URL(options.url);
  url.searchParams.set('session_id', sessionId);
  if (options.ack) url.searchParams.set(KILN_ACK, options.ack.lastStored ?? '');
  const headers = {
    ...options.headers,
    ...(options.token ? { authorization: `token ${options.token}` } : {}),
  };
  const protocols = (options.protocol ?? 'v1') === 'v1' ? [V1_PROTOCOL] : [];
  const socket = new WebSocket(url, protocols, { headers, maxPayload: 1024 * 1024 * 1024 });
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve(new KernelChannel(socket, sessionId)));
    socket.once('unexpected-response', (_request, response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        reject(new ChannelRefused(response.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'))),
      );
    });
    socket.once('error', reject);
  });
}

/** The gateway refused the websocket upgrade (bad token, unknown kernel, another workspace's kernel). */
export class ChannelRefused extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`Websocket refused with HTTP ${status}: ${body}`);
  }
}
