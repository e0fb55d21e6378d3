import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunscKernelSandbox } from './kernel-sandbox.ts';
import { CONTAINER_LOG_MAX_BYTES } from './runsc-container.ts';
import { createRunscDriver, type RunscDriver } from './runsc-driver.ts';
import { probeRunsc } from './runsc-probe.ts';
import { ensureSandboxImage } from './sandbox-image.ts';
import { execute, fillUntilFull, removeTestVolumes, TEST_STATE_DIR, testWorkspace } from './testing.ts';

// Real runsc and a real loop-mounted ext4 volume: what a kernel that writes without end runs into.
const MIB = 1024 * 1024;
let driver: RunscDriver;
let kernel: RunscKernelSandbox;
const workspaceId = testWorkspace();
const volume = join(TEST_STATE_DIR, 'volumes', workspaceId);

beforeAll(async () => {
  const imageDir = await ensureSandboxImage();
  // The operator allows 64 MiB; this workspace's plan asks for 32.
  driver = createRunscDriver({
    stateDir: TEST_STATE_DIR,
    imageDir,
    warmPoolSize: 0,
    maxDiskMiB: 64,
    features: (await probeRunsc()).features,
  });
  await driver.prepare();
  kernel = await driver.start({
    kernelId: 'disk-quota',
    workspaceId,
    resources: { cpu: 1, memoryMiB: 1536 },
    diskMiB: 32,
  });
}, 900_000);

afterAll(async () => {
  await driver?.close();
  await removeTestVolumes();
});

describe('disk quotas of a sandbox', { timeout: 120_000 }, () => {
  it('answers "No space left on device" in /workspace at the plan quota, and the host holds only the image', async () => {
    const { written, error } = await fillUntilFull(kernel, '/workspace/big.bin', 100);
    expect(error).toBe('28 No space left on device');
    // ext4's own metadata takes a little of the 32 MiB.
    expect(written).toBeGreaterThan(20);
    expect(written).toBeLessThan(32);
    const image = statSync(`${volume}.ext4`);
    expect(image.size).toBe(32 * MIB);
    // Allocated blocks on the host: at most the image's size, whatever the sandbox tried.
    expect(image.blocks * 512).toBeLessThanOrEqual(32 * MIB);
    // The kernel sees its own files and can free space again.
    const after = await execute(
      kernel,
      "import os\nos.remove('/workspace/big.bin')\nprint(os.listdir('/workspace'))",
    );
    expect(after.stdout).toBe('[]\n');
  });

  it('gives /tmp a size of its own, answered with ENOSPC before the memory limit', async () => {
    const { written, error } = await fillUntilFull(kernel, '/tmp/big.bin', 700);
    expect(error).toBe('28 No space left on device');
    expect(written).toBeLessThanOrEqual(512);
    await execute(kernel, "import os\nos.remove('/tmp/big.bin')");
  });

  it('leaves no other writable path: the image, the agent and its channel refuse writes', async () => {
    // (The 2022 runsc does not flag the read-only root in statvfs, so what counts is that writes fail.)
    const { stdout } = await execute(
      kernel,
      `import os
for path in ('/opt/kiln/channel/x', '/opt/kiln/agent/x', '/usr/x', '/x', '/var/tmp/x', '/etc/x'):
    try:
        open(path, 'w').close()
        print(path, 'written')
    except OSError as e:
        print(path, e.errno in (13, 30))`,
    );
    expect(stdout).toBe(
      '/opt/kiln/channel/x True\n/opt/kiln/agent/x True\n/usr/x True\n/x True\n/var/tmp/x True\n/etc/x True\n',
    );
  });

  it("bounds the sandbox's stdout on the host (output written straight to fd 1 and by subprocesses)", async () => {
    const log = join(TEST_STATE_DIR, 'run', kernel.containerId, 'container.log');
    // fd 1 and 2 lead to the cell (the agent forwards them), never to the log on the host's disk.
    const { stdout } = await execute(
      kernel,
      "import os\nos.system('head -c 20000000 /dev/zero')\nos.write(1, b'y' * 4000000)",
    );
    expect(stdout.length).toBe(24_000_000);
    expect(statSync(log).size).toBeLessThan(64 * 1024);
    // What still reaches the container's own stdout (PID 1's, written to on purpose) stays bounded.
    await execute(kernel, "import os\nos.system('head -c 20000000 /dev/zero > /proc/1/fd/1')");
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(statSync(log).size).toBeLessThanOrEqual(CONTAINER_LOG_MAX_BYTES + 4 * MIB);
    expect(readFileSync(log, 'utf8')).toContain('[kiln] container output past');
  });

  it('never lets a plan quota above the operator maximum size a volume past it', async () => {
    const greedyWorkspace = testWorkspace();
    const greedy = await driver.start({
      kernelId: 'disk-quota-greedy',
      workspaceId: greedyWorkspace,
      resources: { cpu: 1, memoryMiB: 512 },
      diskMiB: 100_000,
    });
    try {
      expect(statSync(join(TEST_STATE_DIR, 'volumes', `${greedyWorkspace}.ext4`)).size).toBe(64 * MIB);
      const { written, error } = await fillUntilFull(greedy, '/workspace/big.bin', 100);
      expect(error).toBe('28 No space left on device');
      expect(written).toBeLessThan(64);
    } finally {
      await greedy.shutdown();
    }
  });
});
