import { describe, expect, it } from 'vitest';
import { decodeLegacy, decodeV1, encodeLegacyFrame, encodeV1 } from '../kernels/wire-protocol.ts';
import { FrameDecoder } from './frame-codec.ts';
import { isForwardableStreamContent, rawContent } from './raw-content.ts';

/** Builds an agent frame the way kiln_relay.py does, with `content` as the agent's exact bytes. */
function agentFrame(msgType: string, content: Buffer): Buffer {
  const header = { msg_id: 'm1', msg_type: msgType, session: 's', username: 'u', date: 'd', version: '5.3' };
  const parts = [
    Buffer.from('iopub'),
    Buffer.from(JSON.stringify(header)),
    Buffer.from(JSON.stringify({ msg_id: 'p1' })),
    Buffer.from('{}'),
    content,
  ];
  const head = Buffer.alloc(8 + 4 * parts.length);
  head.writeUInt32LE(parts.length, 4);
  for (const [i, part] of parts.entries()) head.writeUInt32LE(part.byteLength, 8 + 4 * i);
  const frame = Buffer.concat([head, ...parts]);
  frame.writeUInt32LE(frame.byteLength - 4, 0);
  return frame;
}

const pythonJson = (name: string, text: string) =>
  Buffer.from(`{"name": "${name}", "text": ${JSON.stringify(text)}}`, 'utf8');

const big = `${'line of output ✓ "quoted" \\ tab\t\n'.repeat(2000)}😀 end\n`;

function decodeOne(frame: Buffer) {
  const [decoded] = new FrameDecoder().push(frame);
  if (decoded?.kind !== 'message') throw new Error('expected a message');
  return decoded.message;
}

describe('large stream output passes through the gateway unparsed', () => {
  it('reaches a legacy client with exactly the text the kernel printed', () => {
    const message = decodeOne(agentFrame('stream', pythonJson('stdout', big)));
    expect(rawContent(message)).toBeDefined();
    const frame = encodeLegacyFrame(message);
    expect(frame.binary).toBe(false);
    const received = decodeLegacy(Buffer.from(frame.data), false);
    expect(received.content).toEqual({ name: 'stdout', text: big });
    expect(received.header.msg_type).toBe('stream');
    expect(received.parent_header).toEqual({ msg_id: 'p1' });
  });

  it('reaches a v1 client with exactly the text the kernel printed', () => {
    const message = decodeOne(agentFrame('stream', pythonJson('stderr', big)));
    expect(decodeV1(encodeV1(message)).content).toEqual({ name: 'stderr', text: big });
  });

  it('parses on demand, and re-serialises once anything has read the content', () => {
    const message = decodeOne(agentFrame('stream', pythonJson('stdout', big)));
    expect(message.content.text).toBe(big);
    expect(rawContent(message)).toBeUndefined();
    message.content = { name: 'stdout', text: 'changed' };
    const received = decodeLegacy(Buffer.from(encodeLegacyFrame(message).data), false);
    expect(received.content).toEqual({ name: 'stdout', text: 'changed' });
  });

  it('refuses bytes that are not exactly one stream content object', () => {
    const pad = 'x'.repeat(20_000);
    const cases = [
      `{"name": "stdout", "text": "${pad}", "extra": "injected"}`,
      `{"name": "stdout", "text": "${pad}"}, "header": {"msg_id": "spoof"}`,
      `{"name": "stdout", "text": "${pad}\u0001"}`,
      `{"name": "stdout", "text": "${pad}\\x"}`,
      `{"name": "stdout", "text": "${pad}\\u12"}`,
      `{"name": "stdout", "text": "${pad}\\"}`,
      `{"name": "other", "text": "${pad}"}`,
    ];
    for (const text of cases) expect(isForwardableStreamContent(Buffer.from(text))).toBe(false);
    const invalidUtf8 = Buffer.concat([
      Buffer.from(`{"name": "stdout", "text": "${pad}`),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('"}'),
    ]);
    expect(isForwardableStreamContent(invalidUtf8)).toBe(false);
    expect(isForwardableStreamContent(pythonJson('stdout', `${pad}\\u00e9 ok`))).toBe(true);
  });

  it('still parses (and so validates) what it refuses to pass through', () => {
    const spoof = Buffer.from(`{"name": "stdout", "text": "${'x'.repeat(20_000)}", "extra": 1}`);
    const message = decodeOne(agentFrame('stream', spoof));
    expect(rawContent(message)).toBeUndefined();
    expect(message.content.extra).toBe(1);
  });
});
