import { isForwardableStreamContent, setLazyContent } from './raw-content.ts';
import type { JupyterMessage } from './types.ts';

/**
 * Wire format between the gateway and the in-sandbox agent (see agent/kiln_agent.py):
 * u32 LE body length, body = u32 LE part count n, n u32 LE part lengths, then the parts:
 * channel, header, parent_header, metadata, content (JSON), buffers.
 * Channel `kiln` carries agent commands with one JSON part.
 */
export type AgentFrame =
  | { kind: 'message'; message: JupyterMessage }
  | { kind: 'command'; command: Record<string, unknown> };

const CHANNELS = new Set(['shell', 'control', 'iopub', 'stdin']);

function encodeParts(parts: Uint8Array[]): Buffer {
  const headLength = 4 + 4 * parts.length;
  const bodyLength = headLength + parts.reduce((sum, part) => sum + part.byteLength, 0);
  const out = Buffer.allocUnsafe(4 + bodyLength);
  out.writeUInt32LE(bodyLength, 0);
  out.writeUInt32LE(parts.length, 4);
  let offset = 8;
  for (const part of parts) {
    out.writeUInt32LE(part.byteLength, offset);
    offset += 4;
  }
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}

/** Encodes a Jupyter message for the agent. */
export function encodeMessage(message: JupyterMessage): Buffer {
  const json = (value: unknown) => Buffer.from(JSON.stringify(value));
  return encodeParts([
    Buffer.from(message.channel),
    json(message.header),
    json(message.parent_header),
    json(message.metadata),
    json(message.content),
    ...message.buffers,
  ]);
}

/** Encodes an agent command (channel `kiln`). */
export function encodeCommand(command: Record<string, unknown>): Buffer {
  return encodeParts([Buffer.from('kiln'), Buffer.from(JSON.stringify(command))]);
}

function decodeBody(body: Buffer): AgentFrame {
  const count = body.readUInt32LE(0);
  let offset = 4 + 4 * count;
  const parts: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const length = body.readUInt32LE(4 + 4 * i);
    parts.push(body.subarray(offset, offset + length));
    offset += length;
  }
  const channel = parts[0]?.toString() ?? '';
  if (channel === 'kiln') return { kind: 'command', command: JSON.parse(parts[1]?.toString() ?? '{}') };
  if (!CHANNELS.has(channel) || parts.length < 5)
    throw new Error(`agent sent a malformed frame (channel ${channel})`);
  const parse = (part: Buffer | undefined) => JSON.parse(part?.toString() ?? '{}');
  const header = parse(parts[1]);
  const content = parts[4] as Buffer;
  const forwardRaw =
    channel === 'iopub' && header?.msg_type === 'stream' && isForwardableStreamContent(content);
  const message: JupyterMessage = {
    channel: channel as JupyterMessage['channel'],
    header,
    parent_header: parse(parts[2]),
    metadata: parse(parts[3]),
    content: forwardRaw ? {} : parse(content),
    // Copies, so a listener may keep a buffer after the receive buffer is reused.
    buffers: parts.slice(5).map((part) => new Uint8Array(part)),
  };
  // A copy, like the buffers: the raw bytes may outlive this frame in the replay buffer.
  if (forwardRaw) setLazyContent(message, Buffer.from(content));
  return { kind: 'message', message };
}

/** Incremental decoder for a byte stream of frames. */
export class FrameDecoder {
  private pending: Buffer[] = [];
  private pendingLength = 0;
  /** Bytes the frame at the head needs in total, once its length prefix has been read. */
  private needed = 0;

  /** Feeds bytes; returns every complete frame they finish. */
  push(chunk: Buffer): AgentFrame[] {
    this.pending.push(chunk);
    this.pendingLength += chunk.length;
    const frames: AgentFrame[] = [];
    while (this.pendingLength >= 4 && this.pendingLength >= this.needed) {
      // Join chunks only when a whole frame is there: joining on every chunk of a large frame is quadratic.
      const head = this.pending.length === 1 ? (this.pending[0] as Buffer) : Buffer.concat(this.pending);
      this.pending = [head];
      const total = 4 + head.readUInt32LE(0);
      if (head.length < total) {
        this.needed = total;
        break;
      }
      frames.push(decodeBody(head.subarray(4, total)));
      const rest = head.subarray(total);
      this.pending = rest.length > 0 ? [rest] : [];
      this.pendingLength = rest.length;
      this.needed = 0;
    }
    return frames;
  }
}
