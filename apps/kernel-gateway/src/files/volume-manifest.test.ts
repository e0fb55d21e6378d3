import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmod,
  lstat,
  mkdir,
  mkdtemp,
  readlink,
  rm,
  stat,
  symlink,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeVolumeLink, setVolumeMode, volumeManifest } from './volume-manifest.ts';

// What a move copies and checks: every file, folder and link with size, mode and hash; links recorded,
// never followed; special files reported, not copied.
let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'kiln-manifest-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('volume manifest', () => {
  it('lists files, folders and links with sizes, modes and hashes, and reports what it cannot copy', async () => {
    await mkdir(join(root, 'models/v1'), { recursive: true });
    await writeFile(join(root, 'models/v1/weights.bin'), 'weights');
    await writeFile(join(root, 'run.sh'), '#!/bin/sh\n');
    await chmod(join(root, 'run.sh'), 0o755);
    await utimes(join(root, 'run.sh'), new Date(), new Date(1_600_000_000_123));
    await symlink('/etc/passwd', join(root, 'escape'));
    execFileSync('mkfifo', [join(root, 'pipe')]);
    await writeFile(join(root, '.kiln-upload-0123'), 'partial upload');

    const manifest = await volumeManifest(root, { hash: true });
    expect(manifest.skipped).toEqual(['pipe']);
    expect(manifest.entries).toEqual([
      { path: 'escape', kind: 'symlink', mode: expect.any(Number), size: 0, target: '/etc/passwd' },
      { path: 'models', kind: 'directory', mode: expect.any(Number), size: 0, mtimeMs: expect.any(Number) },
      {
        path: 'models/v1',
        kind: 'directory',
        mode: expect.any(Number),
        size: 0,
        mtimeMs: expect.any(Number),
      },
      {
        path: 'models/v1/weights.bin',
        kind: 'file',
        mode: expect.any(Number),
        size: 7,
        sha256: createHash('sha256').update('weights').digest('hex'),
        mtimeMs: expect.any(Number),
      },
      {
        path: 'run.sh',
        kind: 'file',
        mode: 0o755,
        size: 10,
        sha256: createHash('sha256').update('#!/bin/sh\n').digest('hex'),
        mtimeMs: 1_600_000_000_123,
      },
    ]);
    // Without `hash`, no file is read.
    expect((await volumeManifest(root)).entries.every((entry) => entry.sha256 === undefined)).toBe(true);
  });

  it('makes links without following them, refuses to replace anything, and never sets set-id bits', async () => {
    await makeVolumeLink(root, 'latest', '../../etc/shadow');
    expect(await readlink(join(root, 'latest'))).toBe('../../etc/shadow');
    expect((await lstat(join(root, 'latest'))).isSymbolicLink()).toBe(true);
    await expect(makeVolumeLink(root, 'latest', 'other')).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(makeVolumeLink(root, '../out', 'x')).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    // A link in the path is not followed to make another link through it.
    await symlink('/tmp', join(root, 'tmp-link'));
    await expect(makeVolumeLink(root, 'tmp-link/planted', 'x')).rejects.toMatchObject({ code: 'FORBIDDEN' });

    await writeFile(join(root, 'tool'), 'x');
    await setVolumeMode(root, 'tool', 0o4755);
    expect((await stat(join(root, 'tool'))).mode & 0o7777).toBe(0o755);
    await setVolumeMode(root, 'tool', 0o644, 1_500_000_000_456);
    expect(Math.round((await stat(join(root, 'tool'))).mtimeMs)).toBe(1_500_000_000_456);
    // Modes are set on the link's own path only: a link is refused, not its target changed.
    await expect(setVolumeMode(root, 'latest', 0o777)).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });
});
