import { createMessage } from '@kiln/kernel-protocol';
import { describe, expect, it } from 'vitest';
import { OutputBuffer } from './output-buffer.ts';

describe('OutputBuffer', () => {
  it('keeps status and replies past the limit and notes exactly where output was dropped', () => {
    const buffer = new OutputBuffer(8 * 1024);
    const parent = { msg_id: 'exec-1', msg_type: 'execute_request' };
    for (let i = 0; i < 20; i++) {
      buffer.push(createMessage('iopub', 'stream', { name: 'stdout', text: 'x'.repeat(1000) }, parent));
    }
    buffer.push(createMessage('shell', 'execute_reply', { status: 'ok' }, parent));
    buffer.push(createMessage('iopub', 'status', { execution_state: 'idle' }, parent));
    const replay = buffer.drain();
    const types = replay.map((m) => m.header.msg_type);
    expect(types.slice(-2)).toEqual(['execute_reply', 'status']);
    const note = replay.find((m) => String(m.content.text).includes('dropped'));
    expect(note?.content.name).toBe('stderr');
    expect(note?.parent_header.msg_id).toBe('exec-1');
    expect(String(note?.content.text)).toMatch(/\d+ output messages \(\d+ bytes\) were dropped/);
    expect(types.indexOf('stream')).toBeLessThan(replay.indexOf(note as never));
    expect(buffer.size).toBe(0);
  });

  it('replays everything unchanged when under the limit', () => {
    const buffer = new OutputBuffer(1024 * 1024);
    buffer.push(createMessage('iopub', 'stream', { name: 'stdout', text: 'a' }));
    buffer.push(createMessage('iopub', 'stream', { name: 'stdout', text: 'b' }));
    expect(buffer.drain().map((m) => m.content.text)).toEqual(['a', 'b']);
  });
});
