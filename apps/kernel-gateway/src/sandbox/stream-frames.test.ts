import {
  decodeLegacy,
  decodeV1,
  encodeLegacyFrame,
  encodeV1,
  rawContent,
  streamContentJson,
} from '@kiln/kernel-protocol';
import { describe, expect, it } from 'vitest';
import { type AgentFrame, FrameDecoder, MAX_AGENT_FRAME_BYTES, MalformedFrameError } from './frame-codec.ts';

/** Frames the agent's way (kiln_relay.py): u32 body length, u32 part count, u32 lengths, parts. */
function frame(parts: Buffer[]): Buffer {
  const head = Buffer.alloc(8 + 4 * parts.length);
  head.writeUInt32LE(parts.length, 4);
  for (const [i, part] of parts.entries()) head.writeUInt32LE(part.byteLength, 8 + 4 * i);
  const out = Buffer.concat([head, ...parts]);
  out.writeUInt32LE(out.byteLength - 4, 0);
  return out;
}

const header = { msg_id: 'm1', msg_type: 'stream', session: 's', username: 'u', date: 'd', version: '5.3' };

function streamFrame(name: string, text: Buffer | string): Buffer {
  return frame([
    Buffer.from('stream'),
    Buffer.from(JSON.stringify(header)),
    Buffer.from(JSON.stringify({ msg_id: 'p1' })),
    Buffer.from(name),
    Buffer.isBuffer(text) ? text : Buffer.from(text, 'utf8'),
  ]);
}

function decodeOne(bytes: Buffer): AgentFrame {
  const frames = new FrameDecoder().push(bytes);
  expect(frames).toHaveLength(1);
  return frames[0] as AgentFrame;
}

function decodeMessage(bytes: Buffer) {
  const decoded = decodeOne(bytes);
  if (decoded.kind !== 'message') throw new Error(`expected a message, got ${decoded.kind}`);
  return decoded.message;
}

const tricky = `${'line of output ✓ "quoted" \\ tab\t\r\n'.repeat(2000)}😀 \u2028 \u0000\u001f\u007f end\n`;

describe('stream output from the agent', () => {
  it('becomes an iopub stream message whose text reaches legacy and v1 clients exactly', () => {
    const message = decodeMessage(streamFrame('stdout', tricky));
    expect(message.channel).toBe('iopub');
    expect(message.header.msg_type).toBe('stream');
    expect(message.parent_header).toEqual({ msg_id: 'p1' });
    expect(rawContent(message)).toBeDefined();
    const legacy = encodeLegacyFrame(message);
    expect(legacy.binary).toBe(false);
    expect(decodeLegacy(Buffer.from(legacy.data), false).content).toEqual({ name: 'stdout', text: tricky });
    expect(decodeV1(encodeV1(message)).content).toEqual({ name: 'stdout', text: tricky });
  });

  it('writes the same JSON bytes JSON.stringify would, for every byte that needs escaping', () => {
    const every = Array.from({ length: 0x80 }, (_, code) => String.fromCharCode(code)).join('');
    // Output escaping to several times its size, across many of the escaper's steps, as well.
    const dense = `${'\u0001"\\é'.repeat(40_000)}😀`;
    for (const text of [every, tricky, dense, '', 'plain', '"', '\\', 'ünïcödé 日本語 🎉']) {
      const expected = `{"name":"stderr","text":${JSON.stringify(text)}}`;
      expect(streamContentJson('stderr', Buffer.from(text, 'utf8')).toString('utf8')).toBe(expected);
    }
  });

  it('cannot smuggle JSON into the message: the text is only ever text', () => {
    const spoof = '", "extra": "injected"}, "header": {"msg_id": "spoof"';
    const message = decodeMessage(streamFrame('stdout', spoof));
    expect(message.content).toEqual({ name: 'stdout', text: spoof });
    expect(decodeLegacy(Buffer.from(encodeLegacyFrame(message).data), false).header.msg_id).toBe('m1');
  });

  it('replaces invalid UTF-8 with U+FFFD instead of passing it on', () => {
    const message = decodeMessage(streamFrame('stdout', Buffer.from([0x61, 0xff, 0xfe, 0x62])));
    expect(message.content).toEqual({ name: 'stdout', text: 'a\ufffd\ufffdb' });
  });

  it('parses on demand, and re-serialises once anything has read the content', () => {
    const message = decodeMessage(streamFrame('stdout', tricky));
    expect(message.content.text).toBe(tricky);
    expect(rawContent(message)).toBeUndefined();
    message.content = { name: 'stdout', text: 'changed' };
    const received = decodeLegacy(Buffer.from(encodeLegacyFrame(message).data), false);
    expect(received.content).toEqual({ name: 'stdout', text: 'changed' });
  });
});

describe('frames the gateway refuses', () => {
  const json = (value: unknown) => Buffer.from(JSON.stringify(value));
  const cases: Array<[string, Buffer]> = [
    ['a stream that is neither stdout nor stderr', streamFrame('stdin', 'x')],
    [
      'a stream with an extra part',
      frame([
        Buffer.from('stream'),
        json(header),
        json({}),
        Buffer.from('stdout'),
        Buffer.from('x'),
        Buffer.from('y'),
      ]),
    ],
    [
      'a header that is not JSON',
      frame([Buffer.from('iopub'), Buffer.from('{nope'), json({}), json({}), json({})]),
    ],
    [
      'a header without msg_type',
      frame([Buffer.from('iopub'), json({ msg_id: 'x' }), json({}), json({}), json({})]),
    ],
    ['content that is an array', frame([Buffer.from('iopub'), json(header), json({}), json({}), json([1])])],
    ['an unknown channel', frame([Buffer.from('admin'), json(header), json({}), json({}), json({})])],
    ['a command that is not an object', frame([Buffer.from('kiln'), Buffer.from('"hello"')])],
    ['a part count larger than the frame', Buffer.from([8, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0])],
    ['a part that runs past the end', Buffer.from([8, 0, 0, 0, 1, 0, 0, 0, 0xff, 0, 0, 0])],
    ['a body too short for its part count', Buffer.from([2, 0, 0, 0, 1, 0])],
  ];
  for (const [what, bytes] of cases) {
    it(`throws MalformedFrameError for ${what}`, () => {
      expect(() => new FrameDecoder().push(bytes)).toThrow(MalformedFrameError);
    });
  }

  it('skips a frame over the size limit without buffering it, and decodes the next one', () => {
    const decoder = new FrameDecoder();
    const declared = MAX_AGENT_FRAME_BYTES + 10;
    const head = Buffer.alloc(4);
    head.writeUInt32LE(declared, 0);
    const frames: AgentFrame[] = [];
    frames.push(...decoder.push(Buffer.concat([head, Buffer.alloc(1000)])));
    // The rest of the oversized body arrives in pieces, the last one together with a real frame.
    let left = declared - 1000;
    const piece = Buffer.alloc(16 * 1024 * 1024);
    while (left > piece.length) {
      frames.push(...decoder.push(piece));
      left -= piece.length;
    }
    frames.push(...decoder.push(Buffer.concat([Buffer.alloc(left), streamFrame('stdout', 'after')])));
    expect(frames.map((f) => f.kind)).toEqual(['oversized', 'message']);
    expect(frames[0]).toEqual({ kind: 'oversized', bytes: declared });
    const last = frames[1];
    expect(last?.kind === 'message' && last.message.content).toEqual({ name: 'stdout', text: 'after' });
  });
});
