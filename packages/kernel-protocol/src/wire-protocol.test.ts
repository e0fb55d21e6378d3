import { deserialize, serialize } from '@jupyterlab/services/lib/kernel/serialize.js';
import { describe, expect, it } from 'vitest';
import type { JupyterMessage } from './types.ts';
import { decodeLegacy, decodeV1, encodeLegacy, encodeV1, V1_PROTOCOL, WireError } from './wire-protocol.ts';

function message(buffers: Uint8Array[] = []): JupyterMessage {
  return {
    channel: 'iopub',
    header: {
      msg_id: 'm1',
      msg_type: 'comm_msg',
      session: 's',
      username: 'u',
      date: '2026-01-01T00:00:00.000Z',
      version: '5.3',
    },
    parent_header: { msg_id: 'p1' },
    metadata: { note: 'naïve 😀' },
    content: { comm_id: 'c', data: { text: 'π ≈ 3.14 😀' } },
    buffers,
  };
}

const binary = new Uint8Array(256).map((_, i) => i);

describe('v1.kernel.websocket.jupyter.org framing', () => {
  it('round-trips a message with non-ASCII JSON and binary buffers byte for byte', () => {
    const decoded = decodeV1(encodeV1(message([binary, new Uint8Array(0), binary.slice(3)])));
    expect(decoded.content).toEqual(message().content);
    expect(decoded.buffers.map((b) => Buffer.from(b).toString('hex'))).toEqual(
      [binary, new Uint8Array(0), binary.slice(3)].map((b) => Buffer.from(b).toString('hex')),
    );
  });

  it('is read by JupyterLab and reads what JupyterLab writes', () => {
    const ours = encodeV1(message([binary]));
    const theirs = deserialize(new Uint8Array(ours).buffer, V1_PROTOCOL) as unknown as JupyterMessage;
    expect(theirs.channel).toBe('iopub');
    expect(theirs.content).toEqual(message().content);
    expect(new Uint8Array((theirs.buffers[0] as unknown as DataView).buffer)).toEqual(binary);

    const fromLab = serialize(
      { ...message(), buffers: [binary.buffer], channel: 'shell' } as never,
      V1_PROTOCOL,
    );
    const back = decodeV1(Buffer.from(fromLab as ArrayBuffer));
    expect(back.channel).toBe('shell');
    expect(back.metadata).toEqual({ note: 'naïve 😀' });
    expect(back.buffers[0]).toEqual(binary);
  });

  it('rejects frames whose offsets lie', () => {
    const frame = encodeV1(message());
    frame.writeBigUInt64LE(BigInt(frame.byteLength + 10), 16);
    expect(() => decodeV1(frame)).toThrow(WireError);
    expect(() => decodeV1(Buffer.from([1, 2, 3]))).toThrow(/shorter/);
    const huge = Buffer.alloc(16);
    huge.writeBigUInt64LE(10n ** 12n, 0);
    expect(() => decodeV1(huge)).toThrow(/offsets/);
  });
});

describe('legacy framing', () => {
  it('uses a JSON text frame with a channel field when there are no buffers', () => {
    const frame = encodeLegacy(message());
    expect(typeof frame).toBe('string');
    expect(JSON.parse(frame as string).channel).toBe('iopub');
    expect(decodeLegacy(Buffer.from(frame as string), false).content).toEqual(message().content);
  });

  it('keeps binary buffers intact, and matches JupyterLab both ways', () => {
    const frame = encodeLegacy(message([binary, binary.slice(100)])) as Buffer;
    expect(Buffer.isBuffer(frame)).toBe(true);
    const theirs = deserialize(new Uint8Array(frame).buffer) as unknown as JupyterMessage;
    expect(new Uint8Array((theirs.buffers[1] as unknown as DataView).buffer)).toEqual(binary.slice(100));

    const fromLab = serialize({ ...message(), buffers: [binary.buffer], channel: 'shell' } as never);
    const back = decodeLegacy(Buffer.from(fromLab as ArrayBuffer), true);
    expect(back.buffers[0]).toEqual(binary);
    expect(back.content).toEqual(message().content);
  });

  it('defaults a missing channel to shell and rejects malformed messages with a reason', () => {
    const noChannel = JSON.stringify({ header: { msg_id: 'a', msg_type: 'execute_request' }, content: {} });
    expect(decodeLegacy(Buffer.from(noChannel), false).channel).toBe('shell');
    expect(() => decodeLegacy(Buffer.from('{nope'), false)).toThrow(/not valid JSON/);
    expect(() => decodeLegacy(Buffer.from('[]'), false)).toThrow(/JSON object/);
    expect(() => decodeLegacy(Buffer.from('{"header":{"msg_type":"x"}}'), false)).toThrow(/msg_id/);
    expect(() =>
      decodeLegacy(Buffer.from('{"channel":"hb","header":{"msg_id":"a","msg_type":"x"}}'), false),
    ).toThrow(/Unknown channel/);
    expect(() => decodeLegacy(Buffer.from([0, 0, 0, 9, 0]), true)).toThrow(WireError);
  });
});
