// DEV ONLY, not committed: runs the agent on the host (no sandbox) to exercise the gateway before the runsc driver exists.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentChannel } from '../src/sandbox/agent-channel.ts';
import type { ExitReason, JupyterMessage, KernelSandbox, KernelSandboxOptions, SandboxDriver } from '../src/sandbox/types.ts';

async function boot(dir: string) {
  const channel = new AgentChannel(dir);
  await channel.listen();
  const proc = spawn('/usr/bin/python3', [join(import.meta.dirname, '..', 'agent', 'kiln_agent.py')], {
    env: { ...process.env, KILN_CHANNEL: channel.socketPath },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  await channel.waitForHello(30_000);
  return { channel, proc };
}

export class DevHostDriver implements SandboxDriver {
  async start(_options: KernelSandboxOptions): Promise<KernelSandbox> {
    const dir = await mkdtemp(join(tmpdir(), 'devdrv-'));
    let { channel, proc } = await boot(dir);
    const msgL = new Set<(m: JupyterMessage) => void>();
    const exitL = new Set<(r: ExitReason) => void>();
    const wire = (c: AgentChannel, p: ChildProcess) => {
      c.onFrame((f) => { if (f.kind === 'message') for (const l of msgL) l(f.message); });
      p.on('exit', (code) => { if (p === proc) for (const l of exitL) l({ kind: 'exited', message: `exited with ${code}`, code }); });
    };
    wire(channel, proc);
    return {
      id: dir, startedFrom: 'cold',
      send: (m) => channel.send(m),
      onMessage: (l) => { msgL.add(l); return () => msgL.delete(l); },
      onExit: (l) => { exitL.add(l); return () => exitL.delete(l); },
      interrupt: async () => { proc.kill('SIGINT'); },
      restart: async () => { const old = proc; proc = undefined as never; old.kill('SIGKILL'); await channel.close(); ({ channel, proc } = await boot(dir)); wire(channel, proc); },
      hibernate: async () => {}, resume: async () => {},
      openTerminal: () => { throw new Error('no terminal in dev driver'); },
      shutdown: async () => { const old = proc; proc = undefined as never; old?.kill('SIGKILL'); await channel.close(); },
    };
  }
  capabilities() { return { gpu: false, checkpoint: false, runscVersion: 'dev' }; }
  async close() {}
}
