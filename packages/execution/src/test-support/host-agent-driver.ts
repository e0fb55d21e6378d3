// INTERIM, deleted once the gateway exports its runsc driver: Kiln's kernel agent on the host, no sandbox.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GatewayOptions } from '@kiln/kernel-gateway';
import { AgentChannel } from '../../../../apps/kernel-gateway/src/sandbox/agent-channel.ts';

type Driver = GatewayOptions['driver'];
type Sandbox = Awaited<ReturnType<Driver['start']>>;
const AGENT = join(import.meta.dirname, '../../../../apps/kernel-gateway/agent/kiln_agent.py');

async function boot(dir: string) {
  const channel = new AgentChannel(dir);
  await channel.listen();
  const proc = spawn('/usr/bin/python3', [AGENT], {
    env: { ...process.env, KILN_CHANNEL: channel.socketPath, PYDEVD_DISABLE_FILE_VALIDATION: '1' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await channel.waitForHello(30_000);
  return { channel, proc };
}

export class HostAgentDriver implements Driver {
  private readonly dirs: string[] = [];
  private readonly procs = new Set<ChildProcess>();

  async start(): Promise<Sandbox> {
    const dir = await mkdtemp(join(tmpdir(), 'kiln-exec-'));
    this.dirs.push(dir);
    let { channel, proc } = await boot(dir);
    this.procs.add(proc);
    const messageListeners = new Set<Parameters<Sandbox['onMessage']>[0]>();
    const exitListeners = new Set<Parameters<Sandbox['onExit']>[0]>();
    const wire = (c: AgentChannel, p: ChildProcess) => {
      c.onFrame((frame) => {
        if (frame.kind === 'message') for (const listener of messageListeners) listener(frame.message);
      });
      p.on('exit', (code) => {
        this.procs.delete(p);
        if (p === proc)
          for (const listener of exitListeners)
            listener({ kind: 'exited', message: `exited with ${code}`, code });
      });
    };
    wire(channel, proc);
    const stop = async () => {
      const old = proc;
      proc = undefined as never;
      old?.kill('SIGKILL');
      await channel.close();
    };
    return {
      id: dir,
      startedFrom: 'cold',
      send: (message) => channel.send(message),
      onMessage: (listener) => {
        messageListeners.add(listener);
        return () => messageListeners.delete(listener);
      },
      onExit: (listener) => {
        exitListeners.add(listener);
        return () => exitListeners.delete(listener);
      },
      interrupt: async () => {
        proc.kill('SIGINT');
      },
      restart: async () => {
        await stop();
        ({ channel, proc } = await boot(dir));
        this.procs.add(proc);
        wire(channel, proc);
      },
      hibernate: async () => {},
      resume: async () => {},
      openTerminal: () => {
        throw new Error('no terminal in the host driver');
      },
      shutdown: stop,
    };
  }

  capabilities() {
    return { gpu: false, checkpoint: false, runscVersion: 'host' };
  }

  async close() {
    for (const proc of this.procs) proc.kill('SIGKILL');
    await Promise.all(this.dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  }
}
