import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunscKernelSandbox } from './kernel-sandbox.ts';
import { createRunscDriver, type RunscDriver } from './runsc-driver.ts';
import { probeRunsc } from './runsc-probe.ts';
import { ensureSandboxImage } from './sandbox-image.ts';
import { execute, removeTestState, TEST_STATE_DIR, testWorkspace } from './testing.ts';

// A workspace image's kernels restore from that image's own snapshot; a prune deletes it with the image
// (image-builder.ts), and the same packages built again later must get a new one, not the deleted path.
const run = promisify(execFile);
const imageDir = join(TEST_STATE_DIR, 'images', '0123456789abcdef');
const image = { debian: ['hello'], python: [] };
let driver: RunscDriver;
const kernels: RunscKernelSandbox[] = [];

beforeAll(async () => {
  // The base image under another path stands in for a built workspace image (same files, own snapshot).
  mkdirSync(imageDir, { recursive: true });
  await run('mount', ['--bind', '-o', 'ro', await ensureSandboxImage(), imageDir]);
  driver = createRunscDriver({
    stateDir: TEST_STATE_DIR,
    imageDir: await ensureSandboxImage(),
    maxDiskMiB: 0,
    images: { ensure: async () => imageDir },
    features: (await probeRunsc()).features,
  });
}, 900_000);

afterAll(async () => {
  await Promise.allSettled(kernels.map((kernel) => kernel.shutdown()));
  await driver?.close();
  await run('umount', [imageDir]).catch(() => undefined);
  await removeTestState();
});

async function start(name: string) {
  const kernel = await driver.start({
    kernelId: `${name}-${Date.now()}`,
    workspaceId: testWorkspace(),
    resources: { cpu: 1, memoryMiB: 512 },
    image,
  });
  kernels.push(kernel);
  return kernel;
}

describe("a workspace image's snapshot", { timeout: 600_000 }, () => {
  it('is taken again when a prune deleted it, and kernels on the rebuilt image still start', async () => {
    const first = await start('first');
    expect(first.startedFrom).toBe('snapshot');
    await first.shutdown();
    // What a prune of the image removes besides the image itself.
    await rm(join(TEST_STATE_DIR, 'snapshots', 'images', '0123456789abcdef'), {
      recursive: true,
      force: true,
    });
    const again = await start('again');
    expect(again.startedFrom).toBe('snapshot');
    expect((await execute(again, 'print(6 * 7)')).stdout).toBe('42\n');
  });
});
