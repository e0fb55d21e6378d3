import { describe, expect, it } from 'vitest';
import { encodeCommand, encodeMessage, FrameDecoder } from './frame-codec.ts';
import type { JupyterMessage } from './types.ts';

const message: JupyterMessage = {
  channel: 'shell',
  header: {
    msg_id: 'm1',
    msg_type: 'comm_msg',
    session: 's',
    username: 'u',
    date: '2026-01-01T00:00:00Z',
    version: '5.3',
  },
  parent_header: {},
  metadata: {},
  content: { data: { text: 'héllo ✓' } },
  buffers: [new Uint8Array([0, 1, 2, 255]), new Uint8Array(0)],
};

describe('frame codec', () => {
  it('round-trips messages with buffers byte for byte, even when split into 1-byte chunks', () => {
    const bytes = Buffer.concat([encodeMessage(message), encodeCommand({ op: 'hello', pid: 1 })]);
    const decoder = new FrameDecoder();
    const frames = [];
    for (const byte of bytes) frames.push(...decoder.push(Buffer.from([byte])));
    expect(frames).toEqual([
      { kind: 'message', message },
      { kind: 'command', command: { op: 'hello', pid: 1 } },
    ]);
  });
});
