import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ChannelRefused,
  createGatewayClient,
  type GatewayClient,
  GatewayError,
  type JupyterMessage,
  type KernelChannel,
  workspaceToken,
} from '@kiln/kernel-protocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// A real gateway process over real runsc sandboxes, killed with SIGKILL mid-cell and started again on
// the same port and state dir: the kernels whose sandboxes still run come back with their variables,
// taken back in the background while the restarted gateway already listens.
const MAIN = fileURLToPath(new URL('../main.ts', import.meta.url));
const ADMIN = `adopt-${randomBytes(12).toString('hex')}`;
const workspaceId = randomUUID();
const stateDir = mkdtempSync(join(tmpdir(), 'kiln-adoption-test-'));
let port: number;
let gateway: ChildProcess | undefined;
let client: GatewayClient;

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port: free } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return free;
}

/** Starts the gateway (standalone, cold boots, no quota mounts) and resolves once it listens. */
async function startGateway(
  extra: Record<string, string> = {},
): Promise<{ child: ChildProcess; log: () => string }> {
  const { DATABASE_URL: _standalone, ...inherited } = process.env;
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    env: {
      ...inherited,
      PORT: String(port),
      HOST: '127.0.0.1',
      KILN_GATEWAY_TOKEN: ADMIN,
      KILN_STATE_DIR: stateDir,
      KILN_WARM_POOL_SIZE: '0',
      KILN_SNAPSHOTS: 'false',
      KILN_KERNEL_PRELOAD: '',
      KILN_MAX_DISK_MIB: '0',
      ...extra,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  gateway = child;
  let log = '';
  await new Promise<void>((resolve, reject) => {
    const read = (chunk: Buffer) => {
      log += chunk.toString();
      if (log.includes('listening on')) resolve();
    };
    child.stdout?.on('data', read);
    child.stderr?.on('data', read);
    child.once('exit', (code) => reject(new Error(`the gateway exited with ${code}:\n${log}`)));
  });
  return { child, log: () => log };
}

/** Every text a kernel printed on stdout into `into`, as it arrives. */
function collectStdout(channel: KernelChannel, into: string[]): void {
  channel.onMessage((message: JupyterMessage) => {
    if (message.header.msg_type === 'stream' && message.content.name === 'stdout')
      into.push(String(message.content.text));
  });
}

async function until(check: () => boolean, what: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function runscStatus(id: string): string {
  const state = execFileSync('runsc', [`--root=${join(stateDir, 'runsc')}`, 'state', id], {
    encoding: 'utf8',
  });
  return (JSON.parse(state) as { status: string }).status;
}

function sandboxes(): string[] {
  const listed = execFileSync('runsc', [`--root=${join(stateDir, 'runsc')}`, 'list', '-quiet'], {
    encoding: 'utf8',
  });
  return listed.split('\n').filter((line) => line.trim() !== '');
}

/** The run dirs of every sandbox the gateway has made in this test's state dir. */
function sandboxRunDirs(): string[] {
  return readdirSync(join(stateDir, 'run')).map((name) => join(stateDir, 'run', name));
}

/** A sandbox's own record (what re-adoption reads), or undefined for a sandbox without one. */
function readRunRecord(dir: string): { kernelId: string; hibernated: boolean } | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, 'kernel.json'), 'utf8')) as {
      kernelId: string;
      hibernated: boolean;
    };
  } catch {
    return undefined;
  }
}

beforeAll(async () => {
  port = await freePort();
  await startGateway();
  client = createGatewayClient({
    baseUrl: `http://127.0.0.1:${port}`,
    token: workspaceToken(ADMIN, workspaceId),
  });
}, 600_000);

afterAll(async () => {
  if (gateway && gateway.exitCode === null && gateway.signalCode === null) {
    gateway.kill('SIGTERM');
    await once(gateway, 'exit');
  }
  // Whatever a failed run left: no sandbox of this test may outlive it.
  for (const id of sandboxes()) {
    execFileSync('runsc', [`--root=${join(stateDir, 'runsc')}`, 'delete', '--force', id]);
  }
  await rm(stateDir, { recursive: true, force: true });
}, 120_000);

describe('a kernel gateway killed with SIGKILL and started again', () => {
  it('listens at once and re-adopts the sandboxes still alive in the background (same kernel id, variables, running cell and its output intact); stops the rest, saying why', async () => {
    const volume = { id: randomUUID(), name: 'data', target: '/vol/data', readOnly: false, quotaMiB: 16 };
    const kept = await client.startKernel({ resources: { cpu: 1, memoryMiB: 512 }, volumes: [volume] });
    const lost = await client.startKernel({ resources: { cpu: 1, memoryMiB: 512 } });
    const stuck = await client.startKernel({ resources: { cpu: 1, memoryMiB: 512 } });
    const sessionId = randomUUID();
    const before = await client.connect(kept.id, { sessionId });
    expect((await before.execute('x = 41', { timeoutMs: 60_000 })).reply.content.status).toBe('ok');
    const lostChannel = await client.connect(lost.id);
    await lostChannel.execute('y = 1', { timeoutMs: 60_000 });
    await lostChannel.close();
    // This kernel's agent (same process as the kernel) can never connect to a gateway again.
    const stuckChannel = await client.connect(stuck.id);
    const refuse =
      "import socket\ndef refuse(self, address):\n    raise OSError('no')\nsocket.socket.connect = refuse";
    expect((await stuckChannel.execute(refuse, { timeoutMs: 60_000 })).reply.content.status).toBe('ok');
    await stuckChannel.close();

    // A cell that is running when the gateway dies, and prints only once the gateway is gone (told by a
    // file on its volume): that output waits in the agent and must reach the notebook after the restart.
    const volumeDir = () =>
      execFileSync('sh', ['-c', `echo ${stateDir}/named-volumes/*--${volume.id}`], {
        encoding: 'utf8',
      }).trim();
    const seen: string[] = [];
    collectStdout(before, seen);
    before.send(
      before.message('shell', 'execute_request', {
        code: "import os, time\nprint('waiting', flush=True)\nwhile not os.path.exists('/vol/data/go'):\n    time.sleep(0.1)\nfor i in range(5):\n    print('while away', i)\nopen('/vol/data/printed', 'w').write('yes')\nx += 1\nprint('done', x)",
        silent: false,
        store_history: true,
        user_expressions: {},
        allow_stdin: false,
        stop_on_error: true,
      }),
    );
    await until(() => seen.join('').includes('waiting'), 'the long cell to start');
    const lostSandboxes = sandboxes();
    gateway?.kill('SIGKILL');
    await once(gateway as ChildProcess, 'exit');
    await before.closed;
    writeFileSync(join(volumeDir(), 'go'), '');
    await until(() => existsSync(join(volumeDir(), 'printed')), 'the cell to print while no gateway runs');
    // While no gateway runs, the second kernel's sandbox dies: that one cannot come back.
    const lostContainer = JSON.parse(
      execFileSync('cat', [join(stateDir, 'kernels', `${lost.id}.json`)], { encoding: 'utf8' }),
    ).sandboxId as string;
    expect(lostContainer).toBe(lost.id);
    const containers = sandboxes();
    expect(containers.length).toBe(3);
    expect(lostSandboxes.sort()).toEqual([...containers].sort());
    const lostRunsc = containers.find((id) =>
      execFileSync('cat', [join(stateDir, 'run', id, 'kernel.json')], { encoding: 'utf8' }).includes(lost.id),
    ) as string;
    execFileSync('runsc', [`--root=${join(stateDir, 'runsc')}`, 'kill', lostRunsc, 'KILL']);
    // runsc reports the sandbox stopped only once its processes are gone (seconds on a loaded machine).
    await until(() => runscStatus(lostRunsc) !== 'running', 'the killed sandbox to stop', 60_000);

    const restarted = await startGateway({ KILN_ADOPTION_TIMEOUT_SECONDS: '60' });
    // It listens without waiting for any agent: the kernel whose agent never comes back is still being
    // taken back, and a client attaches to it; what it asks waits for the agent.
    expect((await client.getKernel(stuck.id)).execution_state).toBe('starting');
    const stuckAfter = await client.connect(stuck.id);
    const stuckErrors: string[] = [];
    stuckAfter.onMessage((message) => {
      if (message.header.msg_type === 'error') stuckErrors.push(String(message.content.evalue));
    });
    stuckAfter.send(
      stuckAfter.message('shell', 'execute_request', {
        code: 'print(1)',
        silent: false,
        store_history: true,
        user_expressions: {},
        allow_stdin: false,
        stop_on_error: true,
      }),
    );

    // Same kernel id, same session: the cell that was running finishes, with x from before the crash,
    // and what it printed while no gateway ran arrives.
    const after = await client.connect(kept.id, { sessionId });
    const resumed: string[] = [];
    collectStdout(after, resumed);
    await until(
      () => resumed.join('').includes('done 42'),
      'the running cell to finish after the restart',
    ).catch((error: Error) => {
      // Seen once under load in a full run: say what did arrive and what the gateway did meanwhile.
      throw new Error(
        `${error.message}; output after the restart: ${JSON.stringify(resumed.join(''))}; gateway log:\n${restarted.log().slice(-6000)}`,
      );
    });
    for (let i = 0; i < 5; i++) expect(resumed.join('')).toContain(`while away ${i}`);
    const check = await after.execute('print(x * 2)', { timeoutMs: 60_000 });
    expect(check.reply.content.status).toBe('ok');
    expect(resumed.join('')).toContain('84');
    expect((await client.getKernel(kept.id)).execution_state).toBe('idle');

    // The kernel that could not be taken back answers 410 with the reason, over REST and the websocket.
    await until(
      () => restarted.log().includes(`stopped kernel ${lost.id}`),
      'the stopped sandbox to be found',
    );
    const gone = (await client.getKernel(lost.id).catch((error: unknown) => error)) as GatewayError;
    expect(gone).toBeInstanceOf(GatewayError);
    expect({ status: gone.status, code: gone.code }).toEqual({ status: 410, code: 'KERNEL_GONE' });
    // Compared as a string so a failure prints the whole reason the gateway gave.
    expect(gone.message, restarted.log()).toMatch(
      /restarted and could not take this kernel back \(its sandbox had stopped\)/,
    );
    const refused = await client.connect(lost.id).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ChannelRefused);
    expect((refused as ChannelRefused).status).toBe(410);

    // The kernel whose agent never answered is stopped after the adoption timeout, after the gateway
    // listened and the other kernel worked; its client is told why in the cell it ran.
    await until(
      () => /re-adopted 1 kernels .*; stopped 2/.test(restarted.log()),
      'the unanswered kernel to be stopped',
      180_000,
    );
    const log = restarted.log();
    expect(log.indexOf('listening on')).toBeLessThan(log.indexOf(`stopped kernel ${stuck.id}`));
    await until(() => stuckErrors.length > 0, 'the stuck kernel’s client to be told', 30_000);
    expect(stuckErrors[0]).toMatch(
      /could not take this kernel back \(its kernel did not answer within 60 s\)/,
    );
    await stuckAfter.closed;
    const stuckGone = (await client.getKernel(stuck.id).catch((error: unknown) => error)) as GatewayError;
    expect({ status: stuckGone.status, code: stuckGone.code }).toEqual({ status: 410, code: 'KERNEL_GONE' });
    expect((await client.listKernels()).map((kernel) => kernel.id)).toEqual([kept.id]);
    // Nothing of them computes on: only the re-adopted sandbox is left.
    await until(() => sandboxes().length === 1, 'the stopped sandboxes to be deleted', 30_000);
    expect(sandboxes()).not.toContain(lostRunsc);
    await after.close();
  }, 600_000);

  it('re-adopts a hibernated kernel: still asleep after the restart, and its next message wakes it with its variables', async () => {
    gateway?.kill('SIGTERM');
    await once(gateway as ChildProcess, 'exit');
    // Kernels idle for 2 s are checkpointed to disk.
    const sleepy = { KILN_HIBERNATE_IDLE_SECONDS: '2', KILN_CULL_INTERVAL_SECONDS: '1' };
    await startGateway(sleepy);
    const secret = `adoption-secret-${randomUUID()}`;
    const volume = { id: randomUUID(), name: 'data', target: '/vol/data', readOnly: false, quotaMiB: 16 };
    const kernel = await client.startKernel({
      resources: { cpu: 1, memoryMiB: 512 },
      env: { KILN_ADOPTION_SECRET: secret },
      volumes: [volume],
    });
    const channel = await client.connect(kernel.id);
    const before = "z = 5\nopen('/vol/data/before.txt', 'w').write('before')";
    expect((await channel.execute(before, { timeoutMs: 60_000 })).reply.content.status).toBe('ok');
    await channel.close();
    const deadline = Date.now() + 120_000;
    // `hibernated` once the checkpoint is on disk and the sandbox gone (not while it is being written).
    while ((await client.getKernel(kernel.id)).hibernation !== 'hibernated') {
      if (Date.now() > deadline) throw new Error('the kernel never hibernated');
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(sandboxes()).toEqual([]);

    gateway?.kill('SIGKILL');
    await once(gateway as ChildProcess, 'exit');
    // As after a host restart, the volume is no longer bound into the sleeping sandbox's run dir.
    execFileSync('sh', ['-c', `umount --recursive --lazy ${stateDir}/run/*/vol`]);
    const restarted = await startGateway(sleepy);
    await until(() => /re-adopted 1 kernels .*; stopped 0/.test(restarted.log()), 'the re-adoption tally');
    expect(await client.getKernel(kernel.id)).toMatchObject({
      execution_state: 'hibernated',
      hibernation: 'hibernated',
    });
    const woken = await client.connect(kernel.id);
    const out: string[] = [];
    collectStdout(woken, out);
    const wake =
      "print(z * 9, open('/vol/data/before.txt').read())\nopen('/vol/data/after.txt', 'w').write('after')";
    expect((await woken.execute(wake, { timeoutMs: 120_000 })).reply.content.status).toBe('ok');
    // It woke with its volume bound again: the file written before, and its new one on the volume's disk.
    expect(out.join('')).toContain('45 before');
    expect(
      execFileSync('sh', ['-c', `cat ${stateDir}/named-volumes/*--${volume.id}/after.txt`], {
        encoding: 'utf8',
      }),
    ).toBe('after');
    await woken.close();

    // The records it was re-adopted from hold its env and image key only sealed; a restart (a new
    // sandbox) still gets the env, opened from the record with the gateway's secret.
    const records = execFileSync(
      'sh',
      ['-c', `cat ${stateDir}/kernels/*.json ${stateDir}/run/*/kernel.json`],
      {
        encoding: 'utf8',
      },
    );
    expect(records).toContain('sealedEnv');
    expect(records).not.toContain(secret);
    await client.restartKernel(kernel.id);
    const fresh = await client.connect(kernel.id);
    const env: string[] = [];
    collectStdout(fresh, env);
    const read = await fresh.execute("import os; print(os.environ['KILN_ADOPTION_SECRET'])", {
      timeoutMs: 120_000,
    });
    expect(read.reply.content.status).toBe('ok');
    expect(env.join('')).toContain(secret);
    await fresh.close();
  }, 600_000);

  it('keeps a kernel Kiln paused asleep after the restart: a client attaching is told why and does not wake it', async () => {
    const reason = 'This workspace ran out of its Starter credit.';
    const kernel = await client.startKernel({ resources: { cpu: 1, memoryMiB: 512 } });
    const channel = await client.connect(kernel.id);
    expect((await channel.execute('w = 6', { timeoutMs: 60_000 })).reply.content.status).toBe('ok');
    await client.hibernateKernel(kernel.id, reason);
    // Once the caller is told, both records a restarted gateway reads already say so.
    const stored = JSON.parse(
      execFileSync('cat', [join(stateDir, 'kernels', `${kernel.id}.json`)], { encoding: 'utf8' }),
    ) as { sandboxId: string; pausedReason?: string };
    expect(stored.pausedReason).toBe(reason);
    const runDirs = sandboxRunDirs().filter((dir) => readRunRecord(dir)?.kernelId === stored.sandboxId);
    expect(runDirs.map((dir) => readRunRecord(dir)?.hibernated)).toEqual([true]);
    await channel.close();

    gateway?.kill('SIGKILL');
    await once(gateway as ChildProcess, 'exit');
    await startGateway();
    expect(await client.getKernel(kernel.id)).toMatchObject({
      hibernation: 'hibernated',
      paused: { reason },
    });
    const attached = await client.connect(kernel.id);
    const told: unknown[] = [];
    attached.onMessage((message) => {
      if (message.header.msg_type === 'status' && message.content.kiln_paused)
        told.push(message.content.kiln_paused);
    });
    await until(() => told.length > 0, 'the client is told the kernel is paused', 30_000);
    expect(told[0]).toEqual({ reason });
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect((await client.getKernel(kernel.id)).hibernation).toBe('hibernated');

    // A run (the cap was lifted) wakes it with its variables, and the pause is over.
    const out: string[] = [];
    collectStdout(attached, out);
    expect((await attached.execute('print(w * 7)', { timeoutMs: 120_000 })).reply.content.status).toBe('ok');
    expect(out.join('')).toContain('42');
    const model = await client.getKernel(kernel.id);
    expect(model.hibernation).toBe('awake');
    expect(model.paused).toBeUndefined();
    await attached.close();
    await client.shutdownKernel(kernel.id);
  }, 600_000);
});
