import type { JupyterMessage } from '../sandbox/types.ts';
import { OutputBuffer } from './output-buffer.ts';
import { UnackedOutput } from './unacked-output.ts';

/** One websocket client attached to a kernel (the channels socket implements it). */
export interface KernelPeer {
  readonly sessionId: string;
  /**
   * Kiln's acknowledgement extension (see KILN_ACK): the client acknowledges what it stored, and is
   * replayed what its session was sent and did not acknowledge, after `lastStored`. Absent: a plain
   * Jupyter client, replayed only what was buffered while its session was away.
   */
  readonly ack?: { lastStored: string | null };
  send(message: JupyterMessage): void;
  close(code: number, reason: string): void;
}

const MAX_PENDING = 10_000;
/** Unacknowledged logs kept for sessions that are away (a web process that died comes back as one). */
const MAX_AWAY_LOGS = 8;

/**
 * The clients attached to one kernel: which of them a reply or output goes to, and what is kept for a
 * session that is away (buffered while nobody is attached, or sent and not yet acknowledged).
 */
export class KernelPeers {
  private readonly peers = new Map<string, KernelPeer>();
  /** Request msg_id to the session that sent it, until its reply comes. */
  private readonly pending = new Map<string, string>();
  private readonly buffer: OutputBuffer;
  /** The session that is away, output is buffered for while no client is attached. */
  private bufferSession: string | null;
  /** Per acknowledging session: what it was sent and has not said it stored. */
  private readonly unacked = new Map<string, UnackedOutput>();

  /**
   * @param adoptedSession A re-adopted kernel's session last attached before the gateway restarted: output
   *   is buffered for it until it reconnects, and replies to requests the previous process forwarded go to it.
   */
  constructor(
    private readonly outputBufferBytes: number,
    private readonly adoptedSession: string | null = null,
  ) {
    this.buffer = new OutputBuffer(outputBufferBytes);
    this.bufferSession = adoptedSession;
  }

  get size(): number {
    return this.peers.size;
  }

  /** Replies the kernel still owes to clients. */
  get awaitingReplies(): number {
    return this.pending.size;
  }

  /**
   * Adds a client; one reusing a live session id replaces the old socket. Returns the peer to route to
   * (an acknowledging client's sends are logged); `replay` then sends it what its session missed.
   */
  add(client: KernelPeer): KernelPeer {
    const log = client.ack ? this.unackedLog(client.sessionId) : null;
    const peer: KernelPeer = log
      ? {
          sessionId: client.sessionId,
          ack: client.ack,
          send(message) {
            log.push(message);
            client.send(message);
          },
          close: (code, reason) => client.close(code, reason),
        }
      : client;
    const previous = this.peers.get(peer.sessionId);
    if (previous) previous.close(1000, 'Replaced by a new connection with the same session id');
    this.peers.set(peer.sessionId, peer);
    return peer;
  }

  /**
   * Sends a newly added peer what an earlier socket of its session was sent but never stored, then what
   * was buffered while the session was away; both are logged again until acknowledged.
   */
  replay(peer: KernelPeer): void {
    const replay: JupyterMessage[] = [];
    const log = peer.ack ? this.unacked.get(peer.sessionId) : undefined;
    if (log) {
      const lastStored = peer.ack?.lastStored;
      if (lastStored) log.acknowledge(lastStored);
      replay.push(...log.take());
    }
    if (this.bufferSession === peer.sessionId) replay.push(...this.buffer.drain());
    this.buffer.clear();
    this.bufferSession = null;
    for (const message of replay) peer.send(message);
  }

  detach(peer: KernelPeer): void {
    if (this.peers.get(peer.sessionId) !== peer) return;
    this.peers.delete(peer.sessionId);
    if (this.peers.size === 0) this.bufferSession = peer.sessionId;
  }

  /** The session stored everything it was sent up to and including `msgId`. */
  acknowledge(sessionId: string, msgId: string): void {
    this.unacked.get(sessionId)?.acknowledge(msgId);
  }

  /** A client's request goes to the kernel: its replies go back to that client's session. */
  expectReply(msgId: string, sessionId: string): void {
    if (this.pending.size >= MAX_PENDING) this.pending.delete(this.pending.keys().next().value as string);
    this.pending.set(msgId, sessionId);
  }

  /** The kernel restarted or died: no reply it owed will come. */
  forgetRequests(): void {
    this.pending.clear();
  }

  /** A shell, control or stdin message from the kernel goes to the session whose request it answers. */
  deliver(message: JupyterMessage): void {
    const type = message.header.msg_type;
    const parentId = message.parent_header.msg_id as string | undefined;
    const sessionId = parentId ? (this.pending.get(parentId) ?? this.adoptedSession ?? undefined) : undefined;
    if (parentId && message.channel !== 'stdin' && type.endsWith('_reply')) this.pending.delete(parentId);
    const peer = sessionId ? this.peers.get(sessionId) : undefined;
    if (peer) peer.send(message);
    else if (this.peers.size === 0 && this.bufferSession !== null) this.buffer.push(message);
  }

  /** Sends to every client, or buffers for the session that is away when none is attached. */
  broadcast(message: JupyterMessage): void {
    if (this.peers.size === 0) {
      if (this.bufferSession !== null) this.buffer.push(message);
      return;
    }
    for (const peer of this.peers.values()) peer.send(message);
  }

  /** The kernel is gone: every client is closed with `reason` and nothing is kept for anyone. */
  closeAll(reason: string): void {
    for (const peer of [...this.peers.values()]) peer.close(1000, reason);
    this.peers.clear();
    this.buffer.clear();
    this.unacked.clear();
  }

  private unackedLog(sessionId: string): UnackedOutput {
    let log = this.unacked.get(sessionId);
    if (log) return log;
    log = new UnackedOutput(this.outputBufferBytes);
    this.unacked.set(sessionId, log);
    // Sessions that never came back: the oldest go (a map iterates in insertion order).
    for (const id of this.unacked.keys()) {
      if (this.unacked.size <= MAX_AWAY_LOGS) break;
      if (id !== sessionId && !this.peers.has(id)) this.unacked.delete(id);
    }
    return log;
  }
}
