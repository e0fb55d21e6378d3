import { mkdtemp, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMessage } from '@kiln/kernel-protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentChannel } from './agent-channel.ts';
import { encodeMessage, FrameDecoder } from './frame-codec.ts';
import { warmUp } from './sandbox-instance.ts';
import type { JupyterMessage } from './types.ts';

// A spare and the snapshot template serve one kernel_info before anybody waits on them (the first
// request a restored kernel serves is the slow one). The real agent is covered by the runsc tests; here
// a socket plays the agent, so what warmUp waits for is exact.

let dir: string | undefined;
let socket: Socket | undefined;
afterEach(async () => {
  socket?.destroy();
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

/** Connects as the agent; resolves each message the gateway sends it. */
async function fakeAgent(channel: AgentChannel): Promise<{ socket: Socket; received: JupyterMessage[] }> {
  const received: JupyterMessage[] = [];
  socket = connect(channel.socketPath);
  await new Promise((resolve) => socket?.once('connect', resolve));
  const decoder = new FrameDecoder();
  socket.on('data', (chunk: Buffer) => {
    for (const frame of decoder.push(chunk)) if (frame.kind === 'message') received.push(frame.message);
  });
  return { socket, received };
}

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe('warming a kernel up', () => {
  it('sends kernel_info on shell and waits for the reply to that very request', async () => {
    dir = await mkdtemp(join(tmpdir(), 'kiln-warm-up-'));
    const channel = new AgentChannel(dir);
    await channel.listen();
    const agent = await fakeAgent(channel);
    let done = false;
    const warming = warmUp(channel, 10_000).then(() => {
      done = true;
    });
    await until(() => agent.received.length === 1);
    const request = agent.received[0] as JupyterMessage;
    expect(request.channel).toBe('shell');
    expect(request.header.msg_type).toBe('kernel_info_request');
    // A reply to some other request, and a status for this one, do not count.
    agent.socket.write(
      encodeMessage(createMessage('shell', 'kernel_info_reply', { status: 'ok' }, { msg_id: 'other' })),
    );
    agent.socket.write(
      encodeMessage(createMessage('iopub', 'status', { execution_state: 'busy' }, request.header)),
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(done).toBe(false);
    agent.socket.write(
      encodeMessage(createMessage('shell', 'kernel_info_reply', { status: 'ok' }, request.header)),
    );
    await warming;
    expect(done).toBe(true);
    await channel.close();
  });

  it('fails when the kernel never answers, so a silent spare is not handed out', async () => {
    dir = await mkdtemp(join(tmpdir(), 'kiln-warm-up-'));
    const channel = new AgentChannel(dir);
    await channel.listen();
    await fakeAgent(channel);
    await expect(warmUp(channel, 100)).rejects.toThrow(/did not answer its warm-up kernel_info/);
    await channel.close();
  });
});
