import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunscCli } from './runsc-cli.ts';
import { RunscContainer } from './runsc-container.ts';

// A hibernation image is the kernel's memory: tokens, passwords, data. runsc writes its image files
// with the default umask (world-readable), so the folder around them must keep everyone but root out.
let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('checkpoint images', () => {
  it('land in a folder only the gateway user can enter, even when it existed before', async () => {
    dir = await mkdtemp(join(tmpdir(), 'kiln-checkpoint-'));
    const imagePath = join(dir, 'run', 'kiln-x', 'hibernate');
    await mkdir(imagePath, { recursive: true, mode: 0o755 });
    // Stands in for `runsc checkpoint`, which writes its files 0644.
    const cli: RunscCli = {
      path: 'runsc',
      globalFlags: [],
      version: 'test',
      checkpointArgs: { checkpoint: [], restore: [] },
      async run(args) {
        const at = args.find((arg) => arg.startsWith('--image-path='))?.slice('--image-path='.length) ?? '';
        await writeFile(join(at, 'checkpoint.img'), 'kernel memory with a secret', { mode: 0o644 });
        return '';
      },
      spawn() {
        throw new Error('checkpoint does not spawn');
      },
    };
    await new RunscContainer(cli, 'kiln-x', join(dir, 'run', 'kiln-x'), '/kiln/x').checkpoint(imagePath);
    expect((await stat(imagePath)).mode & 0o777).toBe(0o700);
  });
});
