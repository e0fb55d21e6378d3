import { mkdtemp, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentChannel } from './agent-channel.ts';
import { type AgentFrame, encodeCommand } from './frame-codec.ts';

// A running agent (one a restarted gateway re-adopts) reconnects every few milliseconds and says hello
// at once, so its hello can arrive before the gateway waits for it. Losing it cost the kernel: the
// gateway gave up after 15 s and stopped a live sandbox with its variables.

let dir: string | undefined;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

async function agent(channel: AgentChannel, hello: Record<string, unknown>): Promise<Socket> {
  const seen = new Promise<AgentFrame>((resolve) => {
    const off = channel.onFrame((frame) => {
      off();
      resolve(frame);
    });
  });
  const socket = connect(channel.socketPath);
  sockets.push(socket);
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(encodeCommand({ op: 'hello', ...hello }));
  await seen;
  return socket;
}

describe('the agent channel', () => {
  it('hands a hello that came before anyone waited to the next wait, once', async () => {
    dir = await mkdtemp(join(tmpdir(), 'kiln-agent-channel-'));
    const channel = new AgentChannel(dir);
    await channel.listen();
    await agent(channel, { busy: true });
    await expect(channel.waitForHello(1000)).resolves.toMatchObject({ op: 'hello', busy: true });
    // Claimed: a second wait is for the next hello, not this one again.
    await expect(channel.waitForHello(200)).rejects.toThrow(/did not connect/);
    await channel.close();
  });

  it('forgets a hello whose connection has gone: only a live agent counts', async () => {
    dir = await mkdtemp(join(tmpdir(), 'kiln-agent-channel-'));
    const channel = new AgentChannel(dir);
    await channel.listen();
    const socket = await agent(channel, { busy: false });
    const gone = new Promise<void>((resolve) => channel.onDisconnect(resolve));
    socket.destroy();
    await gone;
    await expect(channel.waitForHello(200)).rejects.toThrow(/did not connect/);
    await channel.close();
  });
});
