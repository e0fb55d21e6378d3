import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_JSON_BOUNDS, encodeLegacy, encodeV1, jsonBoundsViolation } from '@kiln/kernel-protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { seeded } from '../../test/seeded-random.ts';
import { AgentChannel } from './agent-channel.ts';
import { type AgentFrame, encodeMessage, FrameDecoder, MalformedFrameError } from './frame-codec.ts';

// Everything on the agent socket is written by user code in the sandbox. These frames are what a
// hostile cell can send; the gateway must turn each into a message, a rejection or a dropped
// connection, and never into an exception that escapes (which ends the process for every tenant).

function frame(parts: Buffer[]): Buffer {
  const head = Buffer.alloc(8 + 4 * parts.length);
  head.writeUInt32LE(parts.length, 4);
  for (const [i, part] of parts.entries()) head.writeUInt32LE(part.byteLength, 8 + 4 * i);
  const out = Buffer.concat([head, ...parts]);
  out.writeUInt32LE(out.byteLength - 4, 0);
  return out;
}

const json = (value: unknown) => Buffer.from(JSON.stringify(value));
const header = {
  msg_id: 'm1',
  msg_type: 'display_data',
  session: 's',
  username: 'u',
  date: 'd',
  version: '5.3',
};
const parent = { msg_id: 'cell-1', msg_type: 'execute_request' };

function deep(levels: number, open = '[', close = ']'): Buffer {
  return Buffer.from(open.repeat(levels) + close.repeat(levels));
}

function manyKeys(count: number): Buffer {
  const parts = ['{'];
  for (let i = 0; i < count; i++) parts.push(i === 0 ? `"k${i}":0` : `,"k${i}":0`);
  parts.push('}');
  return Buffer.from(parts.join(''));
}

function iopub(
  content: Buffer,
  headerPart: Buffer = json(header),
  parentPart: Buffer = json(parent),
): Buffer {
  return frame([Buffer.from('iopub'), headerPart, parentPart, json({}), content]);
}

/** A hostile frame drawn from `random`: deep nesting, invalid UTF-8, truncation, flipped bytes. */
function hostileFrame(random: () => number): Buffer {
  const int = (max: number) => Math.floor(random() * max);
  const garbage = () => Buffer.from(Array.from({ length: int(64) }, () => 0x80 + int(128)));
  // Some deep enough to overflow JSON.stringify's recursion, most just past the bound.
  const depth = random() < 0.2 ? 100_000 : DEFAULT_JSON_BOUNDS.maxDepth + 1 + int(5000);
  // Wrapped in an object: parts must be objects, and a bare array would be refused for its type.
  const nested = Buffer.from(
    random() < 0.5 ? `{"data":${deep(depth)}}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`,
  );
  const choices: Array<() => Buffer> = [
    () => iopub(nested),
    () => iopub(json({}), nested),
    () => iopub(json({}), json(header), nested),
    () => frame([Buffer.from('kiln'), nested]),
    () => frame([Buffer.from('stream'), json(header), nested, Buffer.from('stdout'), Buffer.from('x')]),
    () => iopub(Buffer.concat([Buffer.from('{"text":"'), garbage(), Buffer.from('"}')])),
    () =>
      iopub(
        json({}),
        Buffer.concat([Buffer.from('{"msg_id":"'), garbage(), Buffer.from('","msg_type":"x"}')]),
      ),
    () => frame([Buffer.from('stream'), json(header), json(parent), Buffer.from('stderr'), garbage()]),
    () => iopub(Buffer.from('[[[[[[{"unterminated'.repeat(1 + int(50)))),
    () => iopub(garbage()),
  ];
  let bytes = (choices[int(choices.length)] as () => Buffer)();
  const mutation = int(4);
  if (mutation === 1) bytes = bytes.subarray(0, int(bytes.length));
  if (mutation === 2) {
    bytes = Buffer.from(bytes);
    for (let i = 0; i < 1 + int(8); i++) bytes[int(bytes.length)] = int(256);
  }
  return bytes;
}

/** What the gateway does with a message next: forward it to clients in both framings and back to a kernel. */
function forward(frames: AgentFrame[]): void {
  for (const decoded of frames) {
    if (decoded.kind !== 'message') continue;
    encodeV1(decoded.message);
    encodeLegacy(decoded.message);
    encodeMessage(decoded.message);
  }
}

describe('agent frames from a hostile sandbox', () => {
  it('rejects content nested 100,000 levels deep before parsing, keeping the cell it belongs to', () => {
    const frames = new FrameDecoder().push(iopub(deep(100_000)));
    expect(frames).toEqual([
      {
        kind: 'rejected',
        reason: expect.stringMatching(/content nests deeper than 128/),
        parentHeader: parent,
      },
    ]);
  });

  it('rejects a part with millions of keys unparsed, and delivers the next message', () => {
    const count = DEFAULT_JSON_BOUNDS.maxValues + 1;
    const bytes = Buffer.concat([iopub(manyKeys(count)), iopub(json({ data: { 'text/plain': 'ok' } }))]);
    const frames = new FrameDecoder().push(bytes);
    expect(frames.map((f) => f.kind)).toEqual(['rejected', 'message']);
    expect(frames[0]).toMatchObject({ reason: expect.stringMatching(/more than 2000000 values/) });
  });

  it('delivers legitimate nesting, and brackets inside strings do not count', () => {
    const ok = JSON.parse(deep(DEFAULT_JSON_BOUNDS.maxDepth - 1).toString());
    const content = { data: ok, text: '[[[[{{{{'.repeat(100), quoted: '\\"[[[' };
    const [decoded] = new FrameDecoder().push(iopub(json(content)));
    expect(decoded?.kind === 'message' && decoded.message.content).toEqual(content);
    expect(jsonBoundsViolation(Buffer.from('"\\\\"[[['), { maxDepth: 2, maxValues: 10 })).toMatch(/deeper/);
  });

  it('survives 2,000 seeded hostile frames: each decodes, is rejected, or is a MalformedFrameError', () => {
    const seed = 0x6b696c6e;
    const random = seeded(seed);
    const outcomes = { message: 0, rejected: 0, malformed: 0, other: 0 };
    for (let i = 0; i < 2000; i++) {
      const bytes = hostileFrame(random);
      const decoder = new FrameDecoder();
      try {
        // Split at a random point, as a socket would deliver it.
        const cut = Math.floor(random() * bytes.length);
        const frames = [...decoder.push(bytes.subarray(0, cut)), ...decoder.push(bytes.subarray(cut))];
        forward(frames);
        for (const decoded of frames) outcomes[decoded.kind === 'rejected' ? 'rejected' : 'message']++;
      } catch (error) {
        if (!(error instanceof MalformedFrameError)) throw new Error(`seed ${seed} case ${i}: ${error}`);
        outcomes.malformed++;
      }
    }
    expect(outcomes.rejected).toBeGreaterThan(300);
    expect(outcomes.malformed).toBeGreaterThan(100);
  });
});

describe('agent channel over a real socket', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('keeps running when a listener throws and when the kernel sends hostile frames', async () => {
    dir = await mkdtemp(join(tmpdir(), 'kiln-agent-fuzz-'));
    const channel = new AgentChannel(dir);
    await channel.listen();
    const seen: AgentFrame[] = [];
    channel.onFrame(() => {
      throw new RangeError('Maximum call stack size exceeded');
    });
    channel.onFrame((f) => seen.push(f));
    const socket = connect(channel.socketPath);
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(iopub(deep(100_000)));
    socket.write(iopub(json({ data: { 'text/plain': 'still here' } })));
    for (let i = 0; i < 50 && seen.length < 2; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(seen.map((f) => f.kind)).toEqual(['rejected', 'message']);
    socket.destroy();
    await channel.close();
  });
});
