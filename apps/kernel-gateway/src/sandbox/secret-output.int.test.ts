import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunscKernelSandbox } from './kernel-sandbox.ts';
import { createRunscDriver, type RunscDriver } from './runsc-driver.ts';
import { probeRunsc } from './runsc-probe.ts';
import { ensureSandboxImage } from './sandbox-image.ts';
import { execute, removeTestState, TEST_STATE_DIR, testWorkspace } from './testing.ts';

// Real runsc: a secret a kernel writes past Python's sys.stdout (straight to fd 1 or 2, from a shell
// or a subprocess) must never land in a file on the host, in clear or encoded.
const SECRET = `kiln-fd-secret-${Math.random().toString(36).slice(2, 12)}`;
let driver: RunscDriver;
let kernel: RunscKernelSandbox;

beforeAll(async () => {
  const imageDir = await ensureSandboxImage();
  driver = createRunscDriver({
    stateDir: TEST_STATE_DIR,
    imageDir,
    warmPoolSize: 0,
    features: (await probeRunsc()).features,
  });
  await driver.prepare();
  kernel = await driver.start({
    kernelId: 'secret-output',
    workspaceId: testWorkspace(),
    resources: { cpu: 1, memoryMiB: 1024 },
    env: { KILN_TEST_TOKEN: SECRET },
  });
}, 900_000);

afterAll(async () => {
  await driver?.close();
  await removeTestState();
});

/**
 * Every file under `dir` whose bytes contain one of `needles`: GNU grep reads binary files too and
 * skips the holes of sparse ones (a volume's 10 GiB disk image); sockets and FIFOs are left alone.
 */
function filesHolding(dir: string, needles: string[]): string[] {
  const found = spawnSync('grep', ['-rlF', '-D', 'skip', ...needles.flatMap((n) => ['-e', n]), dir], {
    encoding: 'utf8',
  });
  // 0: found, 1: nothing found; anything else is grep failing, which must not pass for "clean".
  if (found.status !== 0 && found.status !== 1) throw new Error(`grep failed: ${found.stderr}`);
  return found.stdout.split('\n').filter(Boolean);
}

describe("a kernel's raw stdout and stderr", { timeout: 120_000 }, () => {
  it('reach the cell that wrote them, and no file in the state dir holds the secret', async () => {
    const { stdout, iopub, reply } = await execute(
      kernel,
      `import os, subprocess, base64
os.system('echo shell says $KILN_TEST_TOKEN')
subprocess.run(['sh', '-c', 'echo to stderr $KILN_TEST_TOKEN >&2'])
os.write(1, base64.b64encode(os.environ['KILN_TEST_TOKEN'].encode()) + b'\\n')`,
    );
    expect(reply.content.status).toBe('ok');
    // The gateway passes output on unmasked (the web app masks it): the cell shows what was written.
    expect(stdout).toContain(`shell says ${SECRET}\n`);
    const stderr = iopub
      .filter((m) => m.header.msg_type === 'stream' && m.content.name === 'stderr')
      .map((m) => String(m.content.text))
      .join('');
    expect(stderr).toContain(`to stderr ${SECRET}\n`);
    // The sandbox runs on; the host got nothing of it.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const base64 = Buffer.from(SECRET).toString('base64');
    const forms = [SECRET, base64.slice(0, base64.length - 4), Buffer.from(SECRET).toString('hex')];
    expect(filesHolding(TEST_STATE_DIR, forms)).toEqual([]);
  });

  it("sends a subprocess's output that outlives its cell to the notebook, not to the host", async () => {
    await execute(
      kernel,
      "import subprocess\nsubprocess.Popen(['sh', '-c', 'sleep 1; echo late $KILN_TEST_TOKEN'])",
    );
    const late = new Promise<string>((resolve) => {
      const off = kernel.onMessage((m) => {
        if (m.header.msg_type === 'stream' && String(m.content.text).includes('late')) {
          off();
          resolve(String(m.content.text));
        }
      });
    });
    expect(await late).toContain(`late ${SECRET}`);
    expect(filesHolding(TEST_STATE_DIR, [SECRET])).toEqual([]);
  });

  it("masks the kernel's env values in what the agent itself logs to the container log", async () => {
    await execute(
      kernel,
      "import logging, os\nlogging.getLogger('kiln-agent').warning('token=' + os.environ['KILN_TEST_TOKEN'])",
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    const log = readFileSync(join(TEST_STATE_DIR, 'run', kernel.containerId, 'container.log'), 'utf8');
    expect(log).toContain('token=********');
    expect(log).not.toContain(SECRET);
  });

  it("masks what a process writes to the container's own stdout on purpose (PID 1's fds)", async () => {
    await execute(
      kernel,
      `import os
os.system('echo on purpose $KILN_TEST_TOKEN > /proc/1/fd/1; printf %s "$KILN_TEST_TOKEN" | base64 > /proc/1/fd/2')`,
    );
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const log = readFileSync(join(TEST_STATE_DIR, 'run', kernel.containerId, 'container.log'), 'utf8');
    expect(log).toContain('on purpose ********\n');
    const base64 = Buffer.from(SECRET).toString('base64');
    expect(filesHolding(TEST_STATE_DIR, [SECRET, base64.slice(0, base64.length - 4)])).toEqual([]);
  });
});
