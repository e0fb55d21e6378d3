import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEnvSeal } from './env-seal.ts';
import type { RunscKernelSandbox } from './kernel-sandbox.ts';
import { createRunscDriver, type RunscDriver } from './runsc-driver.ts';
import { probeRunsc } from './runsc-probe.ts';
import { ensureSandboxImage } from './sandbox-image.ts';
import { execute, removeTestState, TEST_STATE_DIR, testWorkspace } from './testing.ts';

// Real runsc and image: an endpoint replica restored from the snapshot taken after its module's import.
let driver: RunscDriver;
const resources = { cpu: 1, memoryMiB: 1024 };
/** A value only the first test's module holds, to show what an unsealed snapshot keeps in clear. */
const plainMarker = `kiln-plain-${randomUUID()}`;
const module = {
  code: `import os\nloaded_at_import = os.getpid()\nmarker = '${plainMarker}'\ndef greet(name):\n    return f'hello {name}'\n`,
};
/** Memory-backed scratch space of this file's own, so what is left in it is this file's doing. */
const scratchDir = mkdtempSync('/dev/shm/kiln-module-test-');
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
  driver = createRunscDriver({
    stateDir: TEST_STATE_DIR,
    imageDir: await ensureSandboxImage(),
    hibernationScratchDir: scratchDir,
    envSeal: createEnvSeal(`test-${randomUUID()}`),
    features: (await probeRunsc()).features,
  });
  await driver.prepare();
}, 900_000);

afterAll(async () => {
  await Promise.all(started.map((kernel) => kernel.shutdown().catch(() => undefined)));
  await driver?.close();
  await removeTestState();
  await rm(scratchDir, { recursive: true, force: true });
});

/** The files under `dir` (recursively) whose bytes contain `text`, with how many files were read. */
async function filesContaining(dir: string, text: string): Promise<{ read: number; found: string[] }> {
  const needle = Buffer.from(text);
  const found: string[] = [];
  let read = 0;
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    const bytes = await readFile(path).catch(() => undefined);
    if (!bytes) continue;
    read += 1;
    if (bytes.includes(needle)) found.push(path);
  }
  return { read, found };
}

/** This test file's module snapshots of one workspace. */
const moduleDir = (workspaceId: string) => join(TEST_STATE_DIR, 'snapshots', 'modules', workspaceId);

// A loaded 2-core machine has taken over two minutes for one of these (template build and restore).
describe('module snapshots', { timeout: 300_000 }, () => {
  const workspaceId = testWorkspace();

  it('starts the first replica as usual, then restores later ones with the module already imported', async () => {
    const first = await start('module-first', workspaceId, { module });
    expect(first.startedFrom).toBe('snapshot');
    // Nothing was run for the caller: it imports the module itself this time.
    expect(await run(first, 'print(greet)')).toBe('NameError');
    await driver.moduleSnapshotsSettled();

    const second = await start('module-second', workspaceId, { module });
    expect(second.startedFrom).toBe('module');
    // The function is there without running the module again.
    expect(await run(second, "print(greet('kiln'))")).toBe('hello kiln');
    // Without secrets the snapshot is kept in clear: the module's memory is readable in its files.
    expect((await filesContaining(moduleDir(workspaceId), plainMarker)).found).not.toEqual([]);
    // A restart is a fresh interpreter, as in Jupyter: the module is gone.
    await second.restart();
    expect(await run(second, 'print(greet)')).toBe('NameError');
  });

  it('seals the snapshot of a version with secrets and volumes, and restores it with both', async () => {
    const secretWorkspace = testWorkspace();
    const secret = `kiln-secret-${randomUUID()}`;
    const env = { API_TOKEN: secret };
    const volume = { id: randomUUID(), name: 'data', target: '/vol/data', readOnly: false, quotaMiB: 32 };
    const volumeRoot = await driver.namedVolumes.dir(secretWorkspace, volume.id, volume.quotaMiB);
    await writeFile(join(volumeRoot, 'greeting.txt'), 'from the volume', { mode: 0o644 });
    // The module reads both at import, as a client set up from an API key and a config file would.
    const withSecret = {
      code: [
        'import os',
        "token_at_import = os.environ['API_TOKEN']",
        "greeting_at_import = open('/vol/data/greeting.txt').read()",
        'def check():',
        "    return token_at_import == os.environ['API_TOKEN'] and len(token_at_import) > 20",
      ].join('\n'),
    };
    const options = { module: withSecret, env, volumes: [volume] };
    const first = await start('module-secret-1', secretWorkspace, options);
    expect(first.startedFrom).toBe('snapshot');
    await driver.moduleSnapshotsSettled();

    const second = await start('module-secret-2', secretWorkspace, options);
    expect(second.startedFrom).toBe('module');
    // Imported with the secret and the volume's file, and the replica's own env is there too.
    expect(await run(second, 'print(check(), greeting_at_import)')).toBe('True from the volume');
    // The volume is bound live, not frozen in the snapshot: a file written since shows up.
    await writeFile(join(volumeRoot, 'later.txt'), 'later', { mode: 0o644 });
    expect(await run(second, "print(open('/vol/data/later.txt').read())")).toBe('later');

    // The snapshot is on disk and its files never hold the secret in clear, nor do the sandboxes' run dirs.
    const snapshot = await filesContaining(moduleDir(secretWorkspace), secret);
    expect(snapshot.read).toBeGreaterThan(1);
    expect(snapshot.found).toEqual([]);
    expect((await filesContaining(join(TEST_STATE_DIR, 'run'), secret)).found).toEqual([]);
    // Its image in clear existed only in memory-backed scratch space, and is gone once restored.
    expect(await readdir(scratchDir)).toEqual([]);

    // Another value of the secret (a rotation) never restores the snapshot taken with the old one.
    const rotated = await start('module-secret-rotated', secretWorkspace, {
      ...options,
      env: { API_TOKEN: `kiln-rotated-${randomUUID()}` },
    });
    expect(rotated.startedFrom).toBe('snapshot');
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
