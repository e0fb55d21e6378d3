import { jsonBoundsViolation, setLazyContent, streamContentJson } from '@kiln/kernel-protocol';
import type { JupyterMessage } from './types.ts';

/**
 * Wire format between the gateway and the in-sandbox agent (see agent/kiln_relay.py):
 * u32 LE body length, body = u32 LE part count n, n u32 LE part lengths, then the parts:
 * channel, header, parent_header, metadata, content (JSON), buffers.
 * Channel `kiln` carries agent commands with one JSON part; channel `stream` carries stdout/stderr
 * as header, parent_header, name, UTF-8 text, and becomes an iopub `stream` message here.
 *
 * Everything in a frame comes from inside the sandbox, so user code can write any bytes: a frame
 * that does not decode throws MalformedFrameError (the channel then drops that connection), and a
 * frame over MAX_AGENT_FRAME_BYTES is skipped unread rather than buffered. A well-framed message
 * whose JSON is nested too deep or holds too many values is `rejected` (not parsed), with its
 * parent header when that part is sound, so the notebook can say why the output is missing.
 */
export type AgentFrame =
  | { kind: 'message'; message: JupyterMessage }
  | { kind: 'command'; command: Record<string, unknown> }
  /** A frame over the size limit, skipped; `bytes` is its declared length. */
  | { kind: 'oversized'; bytes: number }
  /** A message whose JSON exceeds the bounds in json-bounds.ts; dropped unparsed. */
  | { kind: 'rejected'; reason: string; parentHeader: Record<string, unknown> };

/** Largest frame the gateway will buffer (a kernel's single output message). */
export const MAX_AGENT_FRAME_BYTES = 128 * 1024 * 1024;

export class MalformedFrameError extends Error {
  override name = 'MalformedFrameError';
}

const CHANNELS = new Set(['shell', 'control', 'iopub', 'stdin']);
const STREAM_NAMES = new Set(['stdout', 'stderr']);

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

function splitParts(body: Buffer): Buffer[] {
  if (body.byteLength < 4) throw new MalformedFrameError('frame shorter than its part count');
  const count = body.readUInt32LE(0);
  if (count > 4096 || 4 + 4 * count > body.byteLength)
    throw new MalformedFrameError(`frame declares ${count} parts, more than it holds`);
  let offset = 4 + 4 * count;
  const parts: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const length = body.readUInt32LE(4 + 4 * i);
    if (offset + length > body.byteLength) throw new MalformedFrameError('frame part runs past its end');
    parts.push(body.subarray(offset, offset + length));
    offset += length;
  }
  return parts;
}

function parseObject(part: Buffer | undefined, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(part?.toString('utf8') ?? '');
  } catch {
    throw new MalformedFrameError(`${what} is not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new MalformedFrameError(`${what} is not a JSON object`);
  return value as Record<string, unknown>;
}

function parseHeader(part: Buffer | undefined): JupyterMessage['header'] {
  const header = parseObject(part, 'header');
  if (typeof header.msg_id !== 'string' || typeof header.msg_type !== 'string')
    throw new MalformedFrameError('header lacks msg_id or msg_type');
  return header as JupyterMessage['header'];
}

/** A `stream` frame: header, parent_header, name, text. The content JSON is written here, never taken from the agent. */
function decodeStream(parts: Buffer[]): JupyterMessage {
  const name = parts[3]?.toString('latin1') ?? '';
  if (parts.length !== 5 || !STREAM_NAMES.has(name))
    throw new MalformedFrameError('stream frame is not header, parent_header, stdout|stderr, text');
  const header = parseHeader(parts[1]);
  header.msg_type = 'stream';
  const message: JupyterMessage = {
    channel: 'iopub',
    header,
    parent_header: parseObject(parts[2], 'parent_header'),
    metadata: {},
    content: {},
    buffers: [],
  };
  // A new buffer (never a view of the receive buffer); invalid UTF-8 from the sandbox becomes U+FFFD.
  setLazyContent(message, streamContentJson(name as 'stdout' | 'stderr', parts[4] as Buffer));
  return message;
}

/** The first JSON part over the bounds, as a rejected frame; null when all are within them. */
function rejectOutOfBounds(parts: Buffer[], names: string[]): AgentFrame | null {
  for (let i = 0; i < names.length; i++) {
    const part = parts[i + 1];
    const violation = part ? jsonBoundsViolation(part) : null;
    if (violation === null) continue;
    const parentSound = i !== 1 && parts[2] !== undefined && jsonBoundsViolation(parts[2]) === null;
    let parentHeader: Record<string, unknown> = {};
    if (parentSound) {
      try {
        parentHeader = parseObject(parts[2], 'parent_header');
      } catch {
        // An unreadable parent only loses the link to the cell; the reason still goes out.
      }
    }
    return { kind: 'rejected', reason: `its ${names[i]} ${violation}`, parentHeader };
  }
  return null;
}

function decodeBody(body: Buffer): AgentFrame {
  const parts = splitParts(body);
  const channel = parts[0]?.toString('latin1') ?? '';
  const rejected =
    channel === 'kiln'
      ? rejectOutOfBounds(parts, ['command'])
      : channel === 'stream'
        ? rejectOutOfBounds(parts, ['header', 'parent_header'])
        : rejectOutOfBounds(parts, ['header', 'parent_header', 'metadata', 'content']);
  if (rejected) return rejected;
  if (channel === 'kiln') return { kind: 'command', command: parseObject(parts[1], 'command') };
  if (channel === 'stream') return { kind: 'message', message: decodeStream(parts) };
  if (!CHANNELS.has(channel) || parts.length < 5)
    throw new MalformedFrameError(
      `frame has an unknown channel or too few parts (channel ${channel.slice(0, 32)})`,
    );
  const message: JupyterMessage = {
    channel: channel as JupyterMessage['channel'],
    header: parseHeader(parts[1]),
    parent_header: parseObject(parts[2], 'parent_header'),
    metadata: parseObject(parts[3], 'metadata'),
    content: parseObject(parts[4], 'content'),
    // Copies, so a listener may keep a buffer after the receive buffer is reused.
    buffers: parts.slice(5).map((part) => new Uint8Array(part)),
  };
  return { kind: 'message', message };
}

/** Incremental decoder for a byte stream of frames. */
export class FrameDecoder {
  private pending: Buffer[] = [];
  private pendingLength = 0;
  /** Bytes the frame at the head needs in total, once its length prefix has been read. */
  private needed = 0;
  /** Bytes of an oversized frame still to be thrown away as they arrive. */
  private skipping = 0;

  /** Feeds bytes; returns every complete frame they finish. Throws MalformedFrameError. */
  push(chunk: Buffer): AgentFrame[] {
    const frames: AgentFrame[] = [];
    if (this.skipping > 0) {
      const skipped = Math.min(this.skipping, chunk.length);
      this.skipping -= skipped;
      chunk = chunk.subarray(skipped);
      if (chunk.length === 0) return frames;
    }
    this.pending.push(chunk);
    this.pendingLength += chunk.length;
    while (this.pendingLength >= 4 && this.pendingLength >= this.needed) {
      // Join chunks only when a whole frame is there: joining on every chunk of a large frame is quadratic.
      const head = this.pending.length === 1 ? (this.pending[0] as Buffer) : Buffer.concat(this.pending);
      this.pending = [head];
      const bodyLength = head.readUInt32LE(0);
      if (bodyLength > MAX_AGENT_FRAME_BYTES) {
        frames.push({ kind: 'oversized', bytes: bodyLength });
        const available = head.length - 4;
        this.skipping = Math.max(0, bodyLength - available);
        const rest = head.subarray(Math.min(head.length, 4 + bodyLength));
        this.pending = rest.length > 0 ? [rest] : [];
        this.pendingLength = rest.length;
        this.needed = 0;
        continue;
      }
      const total = 4 + bodyLength;
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
