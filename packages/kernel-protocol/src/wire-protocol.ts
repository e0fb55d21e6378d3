import { jsonBoundsViolation } from './json-bounds.ts';
import { rawContent } from './raw-content.ts';
import type { JupyterMessage } from './types.ts';

/** The binary subprotocol JupyterLab offers first; without it the legacy JSON framing is used. */
export const V1_PROTOCOL = 'v1.kernel.websocket.jupyter.org';

const CHANNELS = new Set(['shell', 'control', 'iopub', 'stdin']);
const MAX_PARTS = 4096;

/** A websocket frame that is not a Jupyter message; the message says what is wrong with it. */
export class WireError extends Error {
  override name = 'WireError';
}

type Channel = JupyterMessage['channel'];

function toJson(value: unknown): string {
  return JSON.stringify(value ?? {});
}

/** Encodes a message in the v1 framing: LE u64 count, LE u64 offsets (with the end), channel, 4 JSON parts, buffers. */
export function encodeV1(message: JupyterMessage): Buffer {
  const parts: Uint8Array[] = [
    Buffer.from(message.channel, 'utf8'),
    Buffer.from(toJson(message.header), 'utf8'),
    Buffer.from(toJson(message.parent_header), 'utf8'),
    Buffer.from(toJson(message.metadata), 'utf8'),
    rawContent(message) ?? Buffer.from(toJson(message.content), 'utf8'),
    ...message.buffers,
  ];
  const offsetCount = parts.length + 1;
  const headerSize = 8 * (offsetCount + 1);
  const total = headerSize + parts.reduce((sum, part) => sum + part.byteLength, 0);
  const out = Buffer.allocUnsafe(total);
  out.writeBigUInt64LE(BigInt(offsetCount), 0);
  let position = headerSize;
  for (let i = 0; i < parts.length; i++) {
    out.writeBigUInt64LE(BigInt(position), 8 * (i + 1));
    const part = parts[i] as Uint8Array;
    out.set(part, position);
    position += part.byteLength;
  }
  out.writeBigUInt64LE(BigInt(position), 8 * offsetCount);
  return out;
}

/** Decodes a v1 binary frame; tolerates a missing end offset. Throws WireError on anything malformed. */
export function decodeV1(data: Buffer): JupyterMessage {
  if (data.byteLength < 8) throw new WireError('Binary frame shorter than its offset count');
  const count = Number(data.readBigUInt64LE(0));
  if (count < 5 || count > MAX_PARTS || 8 * (count + 1) > data.byteLength) {
    throw new WireError(`Binary frame declares ${count} offsets, which does not fit the v1 framing`);
  }
  const offsets: number[] = [];
  for (let i = 0; i < count; i++) offsets.push(Number(data.readBigUInt64LE(8 * (i + 1))));
  if (offsets[0] !== 8 * (count + 1))
    throw new WireError('First offset must point just past the offset table');
  if (offsets[count - 1] !== data.byteLength) offsets.push(data.byteLength);
  const parts: Buffer[] = [];
  for (let i = 0; i < offsets.length - 1; i++) {
    const start = offsets[i] as number;
    const end = offsets[i + 1] as number;
    if (end < start || end > data.byteLength)
      throw new WireError('Offsets must be increasing and inside the frame');
    parts.push(data.subarray(start, end));
  }
  if (parts.length < 5)
    throw new WireError('A v1 frame needs channel, header, parent_header, metadata and content');
  const [channel, header, parent, metadata, content, ...buffers] = parts as [
    Buffer,
    Buffer,
    Buffer,
    Buffer,
    Buffer,
  ];
  return validateMessage(
    {
      channel: channel.toString('utf8'),
      header: parseJson(header, 'header'),
      parent_header: parseJson(parent, 'parent_header'),
      metadata: parseJson(metadata, 'metadata'),
      content: parseJson(content, 'content'),
    },
    buffers.map((buffer) => new Uint8Array(buffer)),
  );
}

/** A legacy websocket frame: text (a string, or UTF-8 JSON bytes) or binary. */
export interface LegacyFrame {
  data: string | Buffer;
  binary: boolean;
}

/** Encodes a message in the legacy framing; a text frame may come as UTF-8 bytes when its content is passed through raw. */
export function encodeLegacyFrame(message: JupyterMessage): LegacyFrame {
  const raw = message.buffers.length === 0 ? rawContent(message) : undefined;
  if (raw) {
    // Same key order as below; the checked raw content goes in without a parse/stringify round trip.
    const head = JSON.stringify({
      channel: message.channel,
      header: message.header,
      parent_header: message.parent_header ?? {},
      metadata: message.metadata ?? {},
    });
    const tail = JSON.stringify({
      msg_id: message.header.msg_id,
      msg_type: message.header.msg_type,
      buffers: [],
    });
    const data = Buffer.concat([
      Buffer.from(`${head.slice(0, -1)},"content":`, 'utf8'),
      raw,
      Buffer.from(`,${tail.slice(1)}`, 'utf8'),
    ]);
    return { data, binary: false };
  }
  const data = encodeLegacy(message);
  return { data, binary: typeof data !== 'string' };
}

/** Encodes a message in the legacy framing: a JSON text frame, or a BE u32 offset table + JSON + buffers. */
export function encodeLegacy(message: JupyterMessage): string | Buffer {
  const json = JSON.stringify({
    channel: message.channel,
    header: message.header,
    parent_header: message.parent_header ?? {},
    metadata: message.metadata ?? {},
    content: message.content ?? {},
    msg_id: message.header.msg_id,
    msg_type: message.header.msg_type,
    buffers: [],
  });
  if (message.buffers.length === 0) return json;
  const parts = [Buffer.from(json, 'utf8'), ...message.buffers];
  const table = Buffer.allocUnsafe(4 * (parts.length + 1));
  table.writeUInt32BE(parts.length, 0);
  let position = table.byteLength;
  parts.forEach((part, i) => {
    table.writeUInt32BE(position, 4 * (i + 1));
    position += part.byteLength;
  });
  return Buffer.concat([table, ...parts]);
}

/** Decodes a legacy frame (text JSON, or binary with buffers). Throws WireError on anything malformed. */
export function decodeLegacy(data: Buffer, isBinary: boolean): JupyterMessage {
  if (!isBinary) return validateMessage(parseJson(data, 'message'), []);
  if (data.byteLength < 4) throw new WireError('Binary frame shorter than its buffer count');
  const count = data.readUInt32BE(0);
  if (count < 1 || count > MAX_PARTS || 4 * (count + 1) > data.byteLength) {
    throw new WireError(`Binary frame declares ${count} parts, which does not fit the legacy framing`);
  }
  const offsets: number[] = [];
  for (let i = 0; i < count; i++) offsets.push(data.readUInt32BE(4 * (i + 1)));
  offsets.push(data.byteLength);
  const parts: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const start = offsets[i] as number;
    const end = offsets[i + 1] as number;
    if (start < 4 * (count + 1) || end < start || end > data.byteLength) {
      throw new WireError('Offsets must be increasing and inside the frame');
    }
    parts.push(data.subarray(start, end));
  }
  const [json, ...buffers] = parts as [Buffer, ...Buffer[]];
  return validateMessage(
    parseJson(json, 'message'),
    buffers.map((buffer) => new Uint8Array(buffer)),
  );
}

/** Parses one JSON part from a client; its nesting and value count are bounded before JSON.parse runs. */
function parseJson(data: Buffer, what: string): unknown {
  const violation = jsonBoundsViolation(data);
  if (violation) throw new WireError(`The ${what} part ${violation}`);
  try {
    return JSON.parse(data.toString('utf8'));
  } catch {
    throw new WireError(`The ${what} part is not valid JSON`);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asObject(value: unknown, what: string): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (!isObject(value)) throw new WireError(`${what} must be a JSON object`);
  return value;
}

/** Checks the shape every Jupyter message must have; the channel defaults to shell as Jupyter Server does. */
export function validateMessage(raw: unknown, buffers: Uint8Array[]): JupyterMessage {
  if (!isObject(raw)) throw new WireError('A message must be a JSON object');
  const channel = raw.channel ?? 'shell';
  if (typeof channel !== 'string' || !CHANNELS.has(channel)) {
    throw new WireError(
      `Unknown channel ${JSON.stringify(channel)}; expected shell, control, iopub or stdin`,
    );
  }
  const header = asObject(raw.header, 'header');
  if (typeof header.msg_id !== 'string' || header.msg_id === '')
    throw new WireError('header.msg_id must be a string');
  if (typeof header.msg_type !== 'string' || header.msg_type === '') {
    throw new WireError('header.msg_type must be a string');
  }
  const text = (key: string, fallback: string) =>
    typeof header[key] === 'string' ? (header[key] as string) : fallback;
  return {
    channel: channel as Channel,
    header: {
      ...header,
      msg_id: header.msg_id,
      msg_type: header.msg_type,
      session: text('session', ''),
      username: text('username', ''),
      date: text('date', new Date().toISOString()),
      version: text('version', '5.3'),
    },
    parent_header: asObject(raw.parent_header, 'parent_header'),
    metadata: asObject(raw.metadata, 'metadata'),
    content: asObject(raw.content, 'content'),
    buffers,
  };
}
