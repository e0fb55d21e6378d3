import { chmod, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { type AgentFrame, encodeCommand, encodeMessage, FrameDecoder } from './frame-codec.ts';
import type { JupyterMessage } from './types.ts';

/**
 * The gateway end of one agent's socket. The agent connects (and reconnects after a restore) to
 * `<channelDir>/agent.sock`; frames sent while it is away are queued and flushed on reconnect.
 */
export class AgentChannel {
  private server: Server | undefined;
  private socket: Socket | undefined;
  private queue: Buffer[] = [];
  private readonly frameListeners = new Set<(frame: AgentFrame) => void>();
  private readonly disconnectListeners = new Set<() => void>();
  private helloWaiters: ((command: Record<string, unknown>) => void)[] = [];
  /**
   * The current connection's hello while nobody has waited for it: an agent that is already running
   * (a gateway re-adopting it after a crash) connects and says hello within milliseconds of the socket
   * being there, possibly before the gateway gets to wait for it. It belongs to that connection only.
   */
  private unclaimedHello: Record<string, unknown> | undefined;

  constructor(readonly channelDir: string) {}

  get socketPath(): string {
    return join(this.channelDir, 'agent.sock');
  }

  get connected(): boolean {
    return this.socket !== undefined;
  }

  /** Starts listening; the socket is world-writable because the agent runs as an unprivileged uid. */
  async listen(): Promise<void> {
    if (this.server) return;
    await rm(this.socketPath, { force: true });
    const server = createServer((socket) => this.adopt(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.socketPath, () => resolve());
    });
    await chmod(this.socketPath, 0o777);
  }

  private adopt(socket: Socket): void {
    this.socket?.destroy();
    this.socket = socket;
    this.unclaimedHello = undefined;
    socket.setNoDelay(true);
    const decoder = new FrameDecoder();
    socket.on('data', (chunk: Buffer) => {
      let frames: AgentFrame[];
      try {
        frames = decoder.push(chunk);
      } catch (error) {
        // Bytes from inside the sandbox that are not our framing (user code can reach this socket):
        // drop that connection; the agent reconnects on its own, the gateway carries on.
        console.error(`[kernel-gateway] dropped an agent connection: ${String(error)}`);
        socket.destroy();
        return;
      }
      for (const frame of frames) this.dispatch(frame);
    });
    const gone = () => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      this.unclaimedHello = undefined;
      for (const listener of this.disconnectListeners) listener();
    };
    socket.on('close', gone);
    socket.on('error', gone);
    if (this.queue.length > 0) {
      const queued = this.queue;
      this.queue = [];
      for (const frame of queued) socket.write(frame);
    }
  }

  private dispatch(frame: AgentFrame): void {
    if (frame.kind === 'oversized')
      console.error(
        `[kernel-gateway] skipped a ${frame.bytes}-byte message from a kernel: over the size limit`,
      );
    if (frame.kind === 'rejected')
      console.error(`[kernel-gateway] dropped a message from a kernel: ${frame.reason}`);
    if (frame.kind === 'command' && frame.command.op === 'hello') {
      const waiters = this.helloWaiters;
      this.helloWaiters = [];
      if (waiters.length === 0) this.unclaimedHello = frame.command;
      for (const waiter of waiters) waiter(frame.command);
    }
    for (const listener of this.frameListeners) {
      // This runs in the socket's data handler: an exception here would end the whole gateway, so
      // whatever one message does to one listener stays with that message.
      try {
        listener(frame);
      } catch (error) {
        console.error(`[kernel-gateway] a kernel message could not be handled (${this.channelDir}):`, error);
      }
    }
  }

  /**
   * Resolves with the agent's hello (sent on every (re)connect), or rejects after `timeoutMs`; a hello
   * the current connection already sent that nobody waited for counts.
   */
  waitForHello(timeoutMs: number): Promise<Record<string, unknown>> {
    const already = this.unclaimedHello;
    if (already) {
      this.unclaimedHello = undefined;
      return Promise.resolve(already);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.helloWaiters = this.helloWaiters.filter((w) => w !== done);
        reject(new Error(`kernel agent did not connect within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = (command: Record<string, unknown>) => {
        clearTimeout(timer);
        resolve(command);
      };
      this.helloWaiters.push(done);
    });
  }

  send(message: JupyterMessage): void {
    this.write(encodeMessage(message));
  }

  command(command: Record<string, unknown>): void {
    this.write(encodeCommand(command));
  }

  private write(frame: Buffer): void {
    if (this.socket) this.socket.write(frame);
    else this.queue.push(frame);
  }

  onFrame(listener: (frame: AgentFrame) => void): () => void {
    this.frameListeners.add(listener);
    return () => this.frameListeners.delete(listener);
  }

  onDisconnect(listener: () => void): () => void {
    this.disconnectListeners.add(listener);
    return () => this.disconnectListeners.delete(listener);
  }

  /** Waits until the agent hangs up (it does so itself before a checkpoint). */
  waitForDisconnect(timeoutMs: number): Promise<void> {
    if (!this.socket) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error(`kernel agent did not release its channel within ${timeoutMs} ms`));
      }, timeoutMs);
      const off = this.onDisconnect(() => {
        clearTimeout(timer);
        off();
        resolve();
      });
    });
  }

  /**
   * Stops accepting connections (the current one stays open): an agent that hangs up before a
   * checkpoint must not reconnect to this sandbox before the checkpoint is taken.
   */
  async stopListening(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    // close()'s callback waits for open connections to end, and the agent's is still needed here.
    server?.close();
    await rm(this.socketPath, { force: true });
  }

  async close(): Promise<void> {
    this.socket?.destroy();
    this.socket = undefined;
    this.unclaimedHello = undefined;
    const server = this.server;
    this.server = undefined;
    server?.close();
    await rm(this.socketPath, { force: true });
  }
}
