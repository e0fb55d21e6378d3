import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createRunscCli } from './runsc-cli.ts';
import { RunscContainer } from './runsc-container.ts';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-container-'));
  dirs.push(dir);
  return dir;
}
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

// runsc is never reached: a restore of a foreign image is refused before any runsc call.
function container(dir: string, version: string): RunscContainer {
  const cli = createRunscCli({ runscPath: '/nonexistent/runsc', root: dir, platform: 'systrap', version });
  return new RunscContainer(cli, 'kiln-test', join(dir, 'run'), '/kiln/kiln-test');
}

describe('checkpoint images and runsc releases', () => {
  it('refuses to restore an image another runsc release wrote, naming both releases', async () => {
    const dir = await tempDir();
    const image = join(dir, 'image');
    await mkdir(image);
    await writeFile(join(image, 'kiln-checkpoint.json'), JSON.stringify({ runscVersion: '0.0~20221219.0' }));
    await expect(container(dir, '0.0~20240729.0').restore(image)).rejects.toThrow(
      /written by runsc 0\.0~20221219\.0; this is runsc 0\.0~20240729\.0/,
    );
  });

  it('refuses an image with no record of its runsc (written before versions were recorded)', async () => {
    const dir = await tempDir();
    await expect(container(dir, '0.0~20240729.0').restore(dir)).rejects.toThrow(
      /written by runsc \(unknown\)/,
    );
  });

  it('passes the same release on to runsc', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'kiln-checkpoint.json'), JSON.stringify({ runscVersion: 'v1' }));
    // Gets past the version check and fails only at spawning the missing binary.
    await expect(container(dir, 'v1').restore(dir)).rejects.toThrow(/ENOENT/);
  });
});
