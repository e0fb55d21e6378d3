import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listVolume, readVolumeFile, writeVolumeFile } from '../files/volume-fs.ts';
import type { RunscKernelSandbox } from './kernel-sandbox.ts';
import { createRunscDriver, type RunscDriver } from './runsc-driver.ts';
import { probeRunsc } from './runsc-probe.ts';
import { ensureSandboxImage } from './sandbox-image.ts';
import { execute, fillUntilFull, removeTestState, TEST_STATE_DIR, testWorkspace } from './testing.ts';
import type { VolumeMountSpec } from './types.ts';

// Real runsc kernels with named volumes: loop-mounted ext4 images bound at /vol/<name>.
const MIB = 1024 * 1024;
let driver: RunscDriver;
const workspaceId = testWorkspace();
const otherWorkspaceId = testWorkspace();
const shared: VolumeMountSpec = {
  id: randomUUID(),
  name: 'shared',
  target: '/vol/shared',
  readOnly: false,
  quotaMiB: 32,
};
const kernels: RunscKernelSandbox[] = [];

async function start(name: string, volumes: VolumeMountSpec[], workspace = workspaceId) {
  const kernel = await driver.start({
    kernelId: `${name}-${randomUUID().slice(0, 6)}`,
    workspaceId: workspace,
    resources: { cpu: 1, memoryMiB: 768 },
    volumes,
  });
  kernels.push(kernel);
  return kernel;
}

beforeAll(async () => {
  const imageDir = await ensureSandboxImage();
  driver = createRunscDriver({
    stateDir: TEST_STATE_DIR,
    imageDir,
    warmPoolSize: 1,
    // A spare replaces a handed-out one at once here, so each next kernel below finds one.
    warmPoolRefillDelayMs: 0,
    maxDiskMiB: 64,
    maxVolumeMiB: 48,
    features: (await probeRunsc()).features,
  });
  await driver.prepare();
}, 900_000);

afterAll(async () => {
  await Promise.allSettled(kernels.map((kernel) => kernel.shutdown()));
  await driver?.close();
  await removeTestState();
});

/** Each kernel writes its own files and appends lines to one shared log, at the same time. */
const writer = (tag: string) => `
import os
os.makedirs('/vol/shared/parts', exist_ok=True)
fd = os.open('/vol/shared/log.txt', os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
for i in range(300):
    with open(f'/vol/shared/parts/${tag}-{i}.txt', 'w') as f:
        f.write(f'${tag} {i}')
    os.write(fd, f'${tag} {i:04d}\\n'.encode())
os.close(fd)
print('done')`;

describe('named volumes in runsc sandboxes', { timeout: 300_000 }, () => {
  it('starts kernels with volumes as fast as those without: from the snapshot, then from a warm spare', async () => {
    // The workspace's first kernel finds no spare: it restores the snapshot, volume bound before it.
    const restored = await start('restored', [shared]);
    expect(restored.startedFrom).toBe('snapshot');
    const wrote = await execute(
      restored,
      "open('/vol/shared/from-restored.txt', 'w').write('restored')\nprint(open('/vol/shared/from-restored.txt').read())",
    );
    expect(wrote.stdout).toBe('restored\n');
    // The next one takes the spare made meanwhile (up before the volume was named), volume bound in late.
    const spared = await start('spared', [shared]);
    expect(spared.startedFrom).toBe('pool');
    const seen = await execute(
      spared,
      `import os
open('/vol/shared/from-spare.txt', 'w').write('spare')
print(os.listdir('/vol'), open('/vol/shared/from-restored.txt').read())`,
    );
    expect(seen.stdout).toBe("['shared'] restored\n");
    const root = await driver.namedVolumes.dir(workspaceId, shared.id, shared.quotaMiB);
    expect(readFileSync(join(root, 'from-spare.txt'), 'utf8')).toBe('spare');
    // A spare taken read-only gets a read-only volume (30: EROFS), though /vol itself is writable.
    const reader = await start('spare-reader', [{ ...shared, readOnly: true }]);
    expect(reader.startedFrom).toBe('pool');
    const refused = await execute(
      reader,
      `try:
    open('/vol/shared/from-reader.txt', 'w')
    print('written')
except OSError as e:
    print(e.errno, open('/vol/shared/from-spare.txt').read())`,
    );
    expect(refused.stdout).toBe('30 spare\n');
    // Stopping kernels unbinds their volumes and deletes their sandboxes' files, never the volume's.
    await Promise.all([restored.shutdown(), spared.shutdown(), reader.shutdown()]);
    expect(readdirSync(root).sort()).toEqual(['from-restored.txt', 'from-spare.txt']);
  });

  it("lets two kernels write one volume at once, each seeing the other's files", async () => {
    const [a, b] = await Promise.all([start('writer-a', [shared]), start('writer-b', [shared])]);
    const results = await Promise.all([execute(a, writer('a')), execute(b, writer('b'))]);
    // A failed writer shows its Python error here rather than an empty stdout.
    const outcome = (result: (typeof results)[number]) =>
      result.reply.content.status === 'ok'
        ? result.stdout
        : `${String(result.reply.content.ename)}: ${String(result.reply.content.evalue)}`;
    expect(results.map(outcome)).toEqual(['done\n', 'done\n']);
    const check = await execute(
      b,
      `import os
parts = os.listdir('/vol/shared/parts')
intact = all(open('/vol/shared/parts/' + name).read() == name[:-4].replace('-', ' ') for name in parts)
lines = open('/vol/shared/log.txt').read().splitlines()
print(len(parts), intact, all(len(line) == 6 for line in lines), len(lines) <= 600)`,
    );
    // All 600 files from both sandboxes, each with its own bytes. Appends to one file from two
    // sandboxes never tear a line, but gVisor emulates O_APPEND in each sandbox (read the size, then
    // write there) and no runsc flag changes that, so lines can be lost (595 of 600 seen here): shared
    // logs need a file per writer, as on NFS (the gateway README says why).
    expect(check.stdout).toBe('600 True True True\n');
    // The file API reads the same disk the kernels write.
    const root = await driver.namedVolumes.dir(workspaceId, shared.id, shared.quotaMiB);
    expect((await listVolume(root, 'parts')).length).toBe(600);
    const file = await readVolumeFile(root, 'parts/a-7.txt');
    file.stream.destroy();
    expect(file.size).toBe(3);
  });

  it('answers "No space left on device" at the quota, and the host holds only the image', async () => {
    const kernel = await start('quota', [shared]);
    const { written, error } = await fillUntilFull(kernel, '/vol/shared/big.bin', 100);
    expect(error).toBe('28 No space left on device');
    expect(written).toBeGreaterThan(10);
    expect(written).toBeLessThan(32);
    const image = statSync(`${await driver.namedVolumes.dir(workspaceId, shared.id, 32)}.ext4`);
    expect(image.size).toBe(32 * MIB);
    expect(image.blocks * 512).toBeLessThanOrEqual(32 * MIB);
    // /workspace is another disk with its own quota: still writable.
    const other = await execute(kernel, "open('/workspace/ok.txt', 'w').write('ok')\nprint('ok')");
    expect(other.stdout).toBe('ok\n');
    await execute(kernel, "import os\nos.remove('/vol/shared/big.bin')");
  });

  it('refuses a browser upload past the quota with a clear error and keeps nothing of it', async () => {
    const root = await driver.namedVolumes.dir(workspaceId, shared.id, shared.quotaMiB);
    const body = Readable.from(
      (function* () {
        for (let i = 0; i < 40; i++) yield Buffer.alloc(MIB, 1);
      })(),
    );
    await expect(writeVolumeFile(root, 'too-big.bin', body, { maxBytes: 1024 * MIB })).rejects.toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
      message: 'No space left on the volume: its quota is used up',
    });
    expect(
      readdirSync(root).filter((name) => name.startsWith('.kiln-upload') || name === 'too-big.bin'),
    ).toEqual([]);
  });

  it('caps a plan quota above the operator maximum', async () => {
    const huge: VolumeMountSpec = {
      ...shared,
      id: randomUUID(),
      name: 'huge',
      target: '/vol/huge',
      quotaMiB: 1_000_000,
    };
    await start('huge', [huge]);
    const dir = await driver.namedVolumes.dir(workspaceId, huge.id, huge.quotaMiB);
    expect(statSync(`${dir}.ext4`).size).toBe(48 * MIB);
  });

  it('mounts read-only when asked, and shows only the volumes a kernel names', async () => {
    const reader = await start('reader', [{ ...shared, readOnly: true }]);
    const { stdout } = await execute(
      reader,
      `import os
print(sorted(os.listdir('/vol')), open('/vol/shared/parts/a-1.txt').read())
try:
    open('/vol/shared/new.txt', 'w')
    print('written')
except OSError as e:
    print(e.errno)
try:
    os.mknod('/vol/shared/dev', 0o600 | 0o020000, os.makedev(1, 3))
    print('device made')
except OSError as e:
    print('no device')`,
    );
    // 30: EROFS. Another volume of the workspace ("huge") is not there.
    expect(stdout).toBe("['shared'] a 1\n30\nno device\n");
  });

  it('hibernates and resumes a kernel with a volume, variables and the writable mount intact', async () => {
    const kernel = await start('sleeper', [shared]);
    await execute(kernel, "x = 41\nopen('/vol/shared/before.txt', 'w').write('before')");
    await kernel.hibernate();
    await kernel.resume();
    const { stdout } = await execute(
      kernel,
      "open('/vol/shared/after.txt', 'w').write('after')\nprint(x + 1, open('/vol/shared/before.txt').read())",
    );
    expect(stdout).toBe('42 before\n');
    const root = await driver.namedVolumes.dir(workspaceId, shared.id, shared.quotaMiB);
    expect(readFileSync(join(root, 'after.txt'), 'utf8')).toBe('after');
  });

  it('keeps links made inside a sandbox from reaching the host, and workspaces apart', async () => {
    const kernel = await start('links', [shared]);
    const { stdout } = await execute(
      kernel,
      `import os
os.symlink('/etc/passwd', '/vol/shared/passwd-link')
os.symlink('../../..', '/vol/shared/up')
print(sorted(os.listdir('/vol/shared/up')) == sorted(os.listdir('/')), os.listdir('/vol/shared/..'))`,
    );
    // Inside, links resolve in the sandbox's own tree; /vol holds nothing but the mount point.
    expect(stdout).toBe("True ['shared']\n");
    const root = await driver.namedVolumes.dir(workspaceId, shared.id, 32);
    // The gateway never follows them out.
    await expect(readVolumeFile(root, 'passwd-link')).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(listVolume(root, 'up')).rejects.toMatchObject({ code: 'FORBIDDEN' });
    // Another workspace naming the same volume id gets its own, empty disk.
    const stranger = await start('stranger', [shared], otherWorkspaceId);
    const seen = await execute(stranger, "import os\nprint(os.listdir('/vol/shared'))");
    expect(seen.stdout).toBe('[]\n');
    expect(readdirSync(root)).toContain('log.txt');
    expect(readFileSync(join(root, 'parts', 'b-3.txt'), 'utf8')).toBe('b 3');
  });
});
