/**
 * The plainest Jupyter client an outside program would write: fetch for the REST API and one `ws`
 * websocket per kernel with the legacy JSON framing (no subprotocol), so the benchmark sees what any
 * client sees, not what Kiln's own client library adds or saves.
 */
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';

export interface WireMessage {
  header: {
    msg_id: string;
    msg_type: string;
    session: string;
    username: string;
    date: string;
    version: string;
  };
  parent_header: { msg_id?: string };
  metadata: Record<string, unknown>;
  content: Record<string, unknown>;
  channel: string;
  buffers?: unknown[];
}

export interface PlainChannel {
  request(
    channel: string,
    msgType: string,
    content: Record<string, unknown>,
    timeoutMs?: number,
  ): Promise<{ reply: WireMessage; iopub: WireMessage[] }>;
  execute(
    code: string,
    options?: { timeoutMs?: number; onMessage?: (message: WireMessage) => void },
  ): Promise<{ reply: WireMessage; iopub: WireMessage[] }>;
  close(): Promise<void>;
}

export interface KernelModel {
  id: string;
  started_from?: string;
  hibernation?: string;
}

export interface PlainClient {
  listKernels(): Promise<KernelModel[]>;
  startKernel(body: { name: string; volumes?: unknown[] }): Promise<KernelModel>;
  getKernel(id: string): Promise<KernelModel>;
  interruptKernel(id: string): Promise<void>;
  shutdownKernel(id: string): Promise<void>;
  connect(id: string): Promise<PlainChannel>;
}

export function createPlainClient(baseUrl: string, token: string): PlainClient {
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { Authorization: `token ${token}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
    return response.status === 204 ? undefined : ((await response.json()) as unknown);
  };
  return {
    listKernels: async () => (await call('GET', '/api/kernels')) as KernelModel[],
    startKernel: async (body) => (await call('POST', '/api/kernels', body)) as KernelModel,
    getKernel: async (id) => (await call('GET', `/api/kernels/${id}`)) as KernelModel,
    interruptKernel: async (id) => void (await call('POST', `/api/kernels/${id}/interrupt`)),
    shutdownKernel: async (id) => void (await call('DELETE', `/api/kernels/${id}`)),
    async connect(id) {
      const session = randomUUID();
      const url = `${baseUrl.replace(/^http/, 'ws')}/api/kernels/${id}/channels?session_id=${session}&token=${token}`;
      const socket = new WebSocket(url, { perMessageDeflate: false });
      await new Promise<void>((resolve, reject) => {
        socket.once('open', () => resolve());
        socket.once('error', reject);
      });
      const listeners = new Map<string, (message: WireMessage) => void>();
      socket.on('message', (data) => {
        const message = JSON.parse(String(data)) as WireMessage;
        const parent = message.parent_header?.msg_id;
        if (parent) listeners.get(parent)?.(message);
      });
      const request: PlainChannel['request'] = (channel, msgType, content, timeoutMs = 60_000) =>
        send(channel, msgType, content, { timeoutMs });
      function send(
        channel: string,
        msgType: string,
        content: Record<string, unknown>,
        options: { timeoutMs?: number; onMessage?: (message: WireMessage) => void },
      ): Promise<{ reply: WireMessage; iopub: WireMessage[] }> {
        const msgId = randomUUID();
        return new Promise((resolve, reject) => {
          const iopub: WireMessage[] = [];
          let reply: WireMessage | undefined;
          let idle = false;
          const timer = setTimeout(() => {
            listeners.delete(msgId);
            reject(new Error(`${msgType} timed out`));
          }, options.timeoutMs ?? 60_000);
          listeners.set(msgId, (message) => {
            options.onMessage?.(message);
            if (message.channel === 'iopub') {
              iopub.push(message);
              if (message.header.msg_type === 'status' && message.content.execution_state === 'idle')
                idle = true;
            } else if (message.channel === channel) reply = message;
            if (reply && idle) {
              clearTimeout(timer);
              listeners.delete(msgId);
              resolve({ reply, iopub });
            }
          });
          socket.send(
            JSON.stringify({
              header: {
                msg_id: msgId,
                msg_type: msgType,
                session,
                username: 'bench',
                date: new Date().toISOString(),
                version: '5.3',
              },
              parent_header: {},
              metadata: {},
              content,
              channel,
              buffers: [],
            }),
          );
        });
      }
      return {
        request,
        execute: (code, options = {}) =>
          send(
            'shell',
            'execute_request',
            {
              code,
              silent: false,
              store_history: true,
              user_expressions: {},
              allow_stdin: false,
              stop_on_error: true,
            },
            options,
          ),
        close: () =>
          new Promise<void>((resolve) => {
            if (socket.readyState === WebSocket.CLOSED) return resolve();
            socket.once('close', () => resolve());
            socket.close();
          }),
      };
    },
  };
}
