import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunscKernelSandbox } from './kernel-sandbox.ts';
import { createRunscDriver, type RunscDriver } from './runsc-driver.ts';
import { probeRunsc } from './runsc-probe.ts';
import { ensureSandboxImage } from './sandbox-image.ts';
import { execute, removeTestState, TEST_STATE_DIR, testWorkspace } from './testing.ts';
import type { ExitReason } from './types.ts';

// Escape attempts a tenant could make from a notebook. Every one must fail, and the host must not notice.
let driver: RunscDriver;
let tenant: RunscKernelSandbox;
const HOST_SECRET = 'kiln-host-secret-value';
const hostCount = (): number => readdirSync('/proc').filter((name) => /^\d+$/.test(name)).length;

/** Runs Python in the tenant kernel and returns what it printed (one JSON line). */
async function probe(code: string): Promise<unknown> {
  const { stdout, reply } = await execute(tenant, code);
  expect(reply.content.status, JSON.stringify(reply.content)).toBe('ok');
  return JSON.parse(stdout.trim().split('\n').pop() ?? 'null');
}

beforeAll(async () => {
  process.env.KILN_TEST_HOST_SECRET = HOST_SECRET;
  const imageDir = await ensureSandboxImage();
  driver = createRunscDriver({ stateDir: TEST_STATE_DIR, imageDir, features: (await probeRunsc()).features });
  await driver.prepare();
  tenant = await driver.start({
    kernelId: 'tenant',
    workspaceId: testWorkspace(),
    resources: { cpu: 1, memoryMiB: 1024 },
  });
}, 900_000);

afterAll(async () => {
  await driver?.close();
  await removeTestState();
});

describe('sandbox isolation', { timeout: 90_000 }, () => {
  it("cannot read the host's secrets, home directories, repo or environment", async () => {
    const hostRootEntries = readdirSync('/root');
    const seen = (await probe(`
import os, json
def attempt(f):
    try: return f()
    except Exception as e: return type(e).__name__
print(json.dumps({
  'uid': os.getuid(),
  'root': attempt(lambda: os.listdir('/root')),
  'home': attempt(lambda: os.listdir('/home')),
  'shadow': attempt(lambda: open('/etc/shadow').read()),
  'repo': os.path.exists('/work/main') or os.path.exists('/work'),
  'env': [k for k, v in os.environ.items() if '${HOST_SECRET}' in v or k.startswith('KILN_TEST')],
  'pg_socket': os.path.exists('/var/run/postgresql') or os.path.exists('/run/postgresql'),
  'docker_socket': os.path.exists('/var/run/docker.sock'),
  'host_procs': len([p for p in os.listdir('/proc') if p.isdigit()]),
}))`)) as Record<string, unknown>;
    expect(seen.uid).toBe(1000);
    expect(
      Array.isArray(seen.root) ? (seen.root as string[]).filter((e) => hostRootEntries.includes(e)) : [],
    ).toEqual([]);
    expect(seen.home).toEqual([]);
    expect(seen.shadow).toBe('PermissionError');
    expect(seen).toMatchObject({ repo: false, env: [], pg_socket: false, docker_socket: false });
    // Only the kernel's own processes are visible, not the host's hundred-odd.
    expect(seen.host_procs as number).toBeLessThan(10);
  });

  it('has no network: not the host database, not the internet', async () => {
    const net = await probe(`
import socket, json
def connect(addr):
    s = socket.socket(); s.settimeout(3)
    try:
        s.connect(addr); return 'connected'
    except Exception as e: return type(e).__name__
    finally: s.close()
print(json.dumps([connect(('127.0.0.1', 5432)), connect(('127.0.0.1', 6379)), connect(('1.1.1.1', 80)), connect(('example.com', 80))]))`);
    expect(net).not.toContain('connected');
    expect(net).toHaveLength(4);
  });

  it('cannot connect to host unix sockets outside its own channel (Postgres, any other)', async () => {
    // runsc runs with --host-uds=open so the agent can reach the gateway's socket in its bind-mounted
    // channel dir; a host socket the sandbox has no mount for must stay out of reach.
    const probePath = join(TEST_STATE_DIR, 'host-probe.sock');
    let accepted = 0;
    const host = createServer((socket) => {
      accepted += 1;
      socket.destroy();
    });
    host.listen(probePath);
    await once(host, 'listening');
    try {
      const paths = ['/var/run/postgresql/.s.PGSQL.5432', '/run/postgresql/.s.PGSQL.5432', probePath];
      const results = (await probe(`
import socket, json
def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.settimeout(3)
    try:
        s.connect(path); return 'connected'
    except Exception as e: return type(e).__name__
    finally: s.close()
print(json.dumps([connect(p) for p in ${JSON.stringify(paths)}]))`)) as string[];
      expect(results).toEqual(['FileNotFoundError', 'FileNotFoundError', 'FileNotFoundError']);
      expect(accepted).toBe(0);
    } finally {
      host.close();
    }
  });

  it('cannot write outside /workspace and /tmp', async () => {
    const writes = await probe(`
import json
def write(path):
    try:
        open(path, 'a').write('x'); return 'written'
    except Exception as e: return type(e).__name__
print(json.dumps([write('/etc/passwd'), write('/usr/lib/python3/dist-packages/evil.py'), write('/opt/kiln/agent/kiln_agent.py'), write('/workspace/ok.txt'), write('/tmp/ok.txt')]))`);
    expect(writes).toEqual([
      expect.stringMatching(/Error/),
      expect.stringMatching(/Error/),
      expect.stringMatching(/Error/),
      'written',
      'written',
    ]);
  });

  it('cannot take the gateway down by writing garbage into the agent socket', async () => {
    // User code can reach the socket its own agent talks on; what it sends is not trusted.
    const { reply, stdout } = await execute(
      tenant,
      `
import socket, struct, time
bodies = [b'\\xff\\xff\\x00\\x00junk', struct.pack('<I', 1) + struct.pack('<I', 3) + b'{"a']
frames = [struct.pack('<I', len(b)) + b for b in bodies] + [struct.pack('<I', 0xfffffff0) + b'x' * 65536]
for frame in frames:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect('/opt/kiln/channel/agent.sock')
    try:
        s.sendall(frame)  # the gateway may hang up on us mid-write
    except OSError:
        pass
    time.sleep(0.2)
    s.close()
print('\\udcff lone surrogate')`,
    );
    // The agent reconnected after each intruder; this cell's own reply and output still arrived.
    expect(reply.content.status, JSON.stringify(reply.content)).toBe('ok');
    expect(stdout).toBe('? lone surrogate\n');
    expect((await execute(tenant, 'print(6 * 7)')).stdout).toBe('42\n');
  });

  it('contains a fork bomb and a memory bomb; the other kernel stays healthy', async () => {
    const workspaceId = testWorkspace();
    const bystander = await driver.start({
      kernelId: 'bystander',
      workspaceId,
      resources: { cpu: 1, memoryMiB: 1024 },
    });
    const before = hostCount();

    const forkBomb = await driver.start({
      kernelId: 'fork-bomb',
      workspaceId,
      resources: { cpu: 1, memoryMiB: 1024 },
    });
    const forkExit = new Promise<ExitReason>((resolve) => forkBomb.onExit(resolve));
    const forkRun = execute(forkBomb, 'import os\nwhile True:\n    try: os.fork()\n    except OSError: pass');
    const forkOutcome = await Promise.race([
      forkExit,
      new Promise((resolve) => setTimeout(() => resolve('running'), 15_000)),
    ]);
    // Either the sandbox died with a reason or it is still running inside its limits; the host never grew.
    console.log(
      'fork bomb outcome',
      JSON.stringify(forkOutcome),
      'host processes grew by',
      hostCount() - before,
    );
    if (forkOutcome !== 'running')
      expect((forkOutcome as ExitReason).message).toMatch(/ran out of memory|too many processes/);
    expect(hostCount() - before).toBeLessThan(600);
    void forkRun;
    await forkBomb.shutdown();

    const memoryBomb = await driver.start({
      kernelId: 'memory-bomb',
      workspaceId,
      resources: { cpu: 1, memoryMiB: 512 },
    });
    const memoryExit = new Promise<ExitReason>((resolve) => memoryBomb.onExit(resolve));
    void execute(memoryBomb, "hog = []\nwhile True: hog.append(b'x' * (64 * 1024 * 1024))");
    const reason = await memoryExit;
    expect(reason).toMatchObject({
      kind: 'oom',
      message: expect.stringContaining('ran out of memory: limit 512 MiB'),
    });

    expect((await execute(bystander, 'print(6*7)')).stdout).toBe('42\n');
    expect(execFileSync('runsc', ['--version']).toString()).toContain('runsc');
    await bystander.shutdown();
  });
});
