import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunscKernelSandbox } from './kernel-sandbox.ts';
import { createRunscDriver, type RunscDriver } from './runsc-driver.ts';
import { ensureSandboxImage } from './sandbox-image.ts';
import { execute, removeTestState, TEST_STATE_DIR, testWorkspace } from './testing.ts';

// Real runsc and image: an endpoint replica restored from the snapshot taken after its module's import.
let driver: RunscDriver;
const resources = { cpu: 1, memoryMiB: 1024 };
const module = {
  code: "import os\nloaded_at_import = os.getpid()\ndef greet(name):\n    return f'hello {name}'\n",
};
const started: RunscKernelSandbox[] = [];

async function start(kernelId: string, workspaceId: string, extra: object = {}): Promise<RunscKernelSandbox> {
  const kernel = await driver.start({ kernelId, workspaceId, resources, ...extra });
  started.push(kernel);
  return kernel;
}

/** What `code` printed, or the Python error's name when it raised. */
async function run(kernel: RunscKernelSandbox, code: string): Promise<string> {
  const result = await execute(kernel, code);
  const content = result.reply.content as { status: string; ename?: string };
  return content.status === 'ok' ? result.stdout.trim() : String(content.ename);
}

beforeAll(async () => {
  driver = createRunscDriver({ stateDir: TEST_STATE_DIR, imageDir: await ensureSandboxImage() });
  await driver.prepare();
}, 900_000);

afterAll(async () => {
  await Promise.all(started.map((kernel) => kernel.shutdown().catch(() => undefined)));
  await driver?.close();
  await removeTestState();
});

describe('module snapshots', { timeout: 180_000 }, () => {
  const workspaceId = testWorkspace();

  it('starts the first replica as usual, then restores later ones with the module already imported', async () => {
    const first = await start('module-first', workspaceId, { module });
    expect(first.startedFrom).toBe('snapshot');
    // Nothing was run for the caller: it imports the module itself this time.
    expect(await run(first, 'print(greet)')).toBe('NameError');
    await driver.moduleSnapshotsSettled();

    const second = await start('module-second', workspaceId, { module, env: { GREETING_SUFFIX: '!' } });
    expect(second.startedFrom).toBe('module');
    // The function is there without running the module again, and the replica's own env arrived.
    expect(await run(second, "print(greet('kiln') + os.environ['GREETING_SUFFIX'])")).toBe('hello kiln!');
    // A restart is a fresh interpreter, as in Jupyter: the module is gone.
    await second.restart();
    expect(await run(second, 'print(greet)')).toBe('NameError');
  });

  it("never restores another workspace's module snapshot", async () => {
    const other = await start('module-other-workspace', testWorkspace(), { module });
    expect(other.startedFrom).toBe('snapshot');
    expect(await run(other, 'print(greet)')).toBe('NameError');
  });

  it('keeps a version whose import fails starting from the image snapshot', async () => {
    const broken = { code: "raise ValueError('import failed')" };
    const first = await start('module-broken-1', workspaceId, { module: broken });
    await driver.moduleSnapshotsSettled();
    const second = await start('module-broken-2', workspaceId, { module: broken });
    expect([first.startedFrom, second.startedFrom]).toEqual(['snapshot', 'snapshot']);
    expect(await run(second, 'print(1 + 1)')).toBe('2');
  });

  it('changed code gets its own snapshot, never the old one', async () => {
    const changed = { code: `${module.code}def greet(name):\n    return 'changed'\n` };
    const kernel = await start('module-changed', workspaceId, { module: changed });
    expect(kernel.startedFrom).toBe('snapshot');
    await driver.moduleSnapshotsSettled();
    const next = await start('module-changed-2', workspaceId, { module: changed });
    expect(next.startedFrom).toBe('module');
    expect(await run(next, "print(greet('x'))")).toBe('changed');
  });
});
