import { execFile } from 'node:child_process';
import { chown, mkdir, open, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DomainError } from '@kiln/core';
import { SANDBOX_UID } from './oci-spec.ts';

const run = promisify(execFile);
const MIB = 1024 * 1024;
const WORKSPACE_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

/**
 * Per-workspace disk: an ext4 file system in a sparse image file, loop-mounted where the sandboxes bind
 * /workspace from. Writes past its size get ENOSPC inside the sandbox; the host file system only ever
 * holds the image, which never grows past the quota. One gateway process per state dir mounts a given
 * workspace (two mounts of one image would corrupt it).
 */
export interface WorkspaceVolumes {
  /** Mounts (creating or growing) the workspace's volume; returns the host dir to bind at /workspace. */
  ensure(workspaceId: string, quotaMiB: number): Promise<string>;
  /** Unmounts and deletes a volume with its files; CONFLICT while a sandbox still uses it. */
  destroy(workspaceId: string): Promise<void>;
  /** Unmounts what this process mounted and no sandbox uses any more (busy ones stay mounted). */
  close(): Promise<void>;
}

/** Is `dir` a mount point right now (per this process's mount table)? */
async function isMountPoint(dir: string): Promise<boolean> {
  const table = await readFile('/proc/self/mountinfo', 'utf8');
  // Field 5 is the mount point; spaces in it are escaped as \040 (our paths have none).
  return table.split('\n').some((line) => line.split(' ')[4] === dir);
}

async function loopDeviceOf(image: string): Promise<string | undefined> {
  const { stdout } = await run('losetup', ['-j', image]);
  return stdout.split(':')[0]?.trim() || undefined;
}

async function sizeOf(path: string): Promise<number | undefined> {
  return stat(path).then(
    (info) => info.size,
    () => undefined,
  );
}

async function createImage(image: string, quotaMiB: number): Promise<void> {
  const handle = await open(image, 'wx', 0o600);
  try {
    // Sparse: the host pays only for blocks the workspace writes.
    await handle.truncate(quotaMiB * MIB);
  } finally {
    await handle.close();
  }
  // No reserved blocks (the sandbox never runs as root); the root dir belongs to the sandbox user. A small
  // journal left unzeroed and one inode per 16 KiB keep a fresh 10 GiB image at ~5 MB on the host
  // instead of ~69 MB.
  await run('mkfs.ext4', [
    '-q',
    '-F',
    '-m',
    '0',
    '-i',
    '16384',
    // mkfs's default journal (up to 64 MB of zeroes) fits small images; big ones get a 16 MiB one.
    ...(quotaMiB >= 256 ? ['-J', 'size=16'] : []),
    '-E',
    `lazy_journal_init=1,root_owner=${SANDBOX_UID}:${SANDBOX_UID}`,
    image,
  ]);
}

/** Creates the volume manager for `<stateDir>/<folder>` (`volumes` for /workspace, one image per key). */
export function createWorkspaceVolumes(stateDir: string, folder = 'volumes'): WorkspaceVolumes {
  const root = join(stateDir, folder);
  const mounted = new Set<string>();
  // Parallel kernel starts in one workspace must not mount (or create) its image twice.
  const pending = new Map<string, Promise<string>>();

  async function mountVolume(workspaceId: string, quotaMiB: number): Promise<string> {
    const dir = join(root, workspaceId);
    const image = `${dir}.ext4`;
    await mkdir(dir, { recursive: true, mode: 0o750 });
    if (await isMountPoint(dir)) {
      // Left mounted by this process or a gateway before it: take it over.
      mounted.add(dir);
      return dir;
    }
    const legacy = (await readdir(dir)).length > 0;
    if ((await sizeOf(image)) === undefined) await createImage(image, quotaMiB);
    else await grow(image, quotaMiB);
    await run('mount', ['-o', 'loop,nosuid,nodev', image, dir]);
    mounted.add(dir);
    // mkfs's lost+found is of no use to a notebook user and only confuses them.
    await rm(join(dir, 'lost+found'), { recursive: true, force: true });
    if (legacy) await migrateLegacy(dir, image);
    return dir;
  }

  /** Volumes from before quotas were plain dirs: copy their files into the image, then drop the copy. */
  async function migrateLegacy(dir: string, image: string): Promise<void> {
    await run('umount', [dir]);
    mounted.delete(dir);
    const staging = `${dir}.migrating`;
    await mkdir(staging, { recursive: true });
    await run('mount', ['-o', 'loop,nosuid,nodev', image, staging]);
    try {
      await run('cp', ['-a', `${dir}/.`, `${staging}/`]);
    } finally {
      await run('umount', [staging]);
      await rm(staging, { recursive: true, force: true });
    }
    for (const entry of await readdir(dir)) await rm(join(dir, entry), { recursive: true, force: true });
    await run('mount', ['-o', 'loop,nosuid,nodev', image, dir]);
    mounted.add(dir);
  }

  /**
   * A bigger quota (a plan upgrade) grows the file system, offline: online resizing is refused in
   * containers (and needs CAP_SYS_RESOURCE), so a mounted volume grows the next time it is mounted.
   * It never shrinks.
   */
  async function grow(image: string, quotaMiB: number): Promise<void> {
    const size = await sizeOf(image);
    if (size === undefined || size >= quotaMiB * MIB) return;
    if (await loopDeviceOf(image)) return;
    const handle = await open(image, 'r+');
    try {
      await handle.truncate(quotaMiB * MIB);
    } finally {
      await handle.close();
    }
    await run('e2fsck', ['-f', '-p', image]);
    await run('resize2fs', [image]);
  }

  return {
    ensure(workspaceId, quotaMiB) {
      if (!WORKSPACE_ID.test(workspaceId))
        return Promise.reject(new Error(`invalid workspace id "${workspaceId}"`));
      if (!Number.isInteger(quotaMiB) || quotaMiB < 16)
        return Promise.reject(
          new Error(`disk quota must be a whole number of MiB, at least 16 (got ${quotaMiB})`),
        );
      const previous = pending.get(workspaceId) ?? Promise.resolve('');
      const next = previous.catch(() => '').then(() => mountVolume(workspaceId, quotaMiB));
      pending.set(workspaceId, next);
      return next;
    },
    async destroy(workspaceId) {
      if (!WORKSPACE_ID.test(workspaceId)) throw new Error(`invalid workspace id "${workspaceId}"`);
      const dir = join(root, workspaceId);
      const previous = pending.get(workspaceId) ?? Promise.resolve('');
      const next = previous
        .catch(() => '')
        .then(async () => {
          if (await isMountPoint(dir)) {
            await run('umount', [dir]).catch(() => {
              throw new DomainError('CONFLICT', 'The volume is in use by a running kernel; stop it first');
            });
          }
          mounted.delete(dir);
          await rm(`${dir}.ext4`, { force: true });
          await rm(dir, { recursive: true, force: true });
          return '';
        });
      pending.set(workspaceId, next);
      await next;
    },
    async close() {
      await Promise.allSettled(pending.values());
      // Volumes a gateway killed before this one left mounted, and no kernel of this process used.
      const entries = await readdir(root, { withFileTypes: true }).catch(() => []);
      for (const entry of entries) {
        const dir = join(root, entry.name);
        if (entry.isDirectory() && WORKSPACE_ID.test(entry.name) && (await isMountPoint(dir)))
          mounted.add(dir);
      }
      for (const dir of mounted) {
        // Never lazily: a detached mount still in use plus a fresh mount of the same image corrupts it.
        // A sandbox stopped just before may still hold it for a moment while its processes exit.
        for (let attempt = 0; attempt < 20 && mounted.has(dir); attempt++) {
          if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 250));
          await run('umount', [dir]).then(
            () => mounted.delete(dir),
            () => undefined,
          );
        }
      }
    },
  };
}

/** Ensures a volume dir is owned by the sandbox user (plain dirs, used when quotas are off). */
export async function ensurePlainVolume(
  stateDir: string,
  workspaceId: string,
  folder = 'volumes',
): Promise<string> {
  if (!WORKSPACE_ID.test(workspaceId)) throw new Error(`invalid workspace id "${workspaceId}"`);
  const dir = join(stateDir, folder, workspaceId);
  if ((await sizeOf(dir)) === undefined) {
    await mkdir(dir, { recursive: true, mode: 0o750 });
    await chown(dir, SANDBOX_UID, SANDBOX_UID);
  }
  return dir;
}

/** Deletes a plain (quota-less) volume dir with its files; gone already is fine. */
export async function destroyPlainVolume(
  stateDir: string,
  workspaceId: string,
  folder = 'volumes',
): Promise<void> {
  if (!WORKSPACE_ID.test(workspaceId)) throw new Error(`invalid workspace id "${workspaceId}"`);
  const dir = join(stateDir, folder, workspaceId);
  if (await isMountPoint(dir))
    throw new DomainError('CONFLICT', 'The volume is in use by a running kernel; stop it first');
  await rm(dir, { recursive: true, force: true });
}
