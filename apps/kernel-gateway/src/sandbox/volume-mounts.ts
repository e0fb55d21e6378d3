import { execFile } from 'node:child_process';
import { mkdir, readFile, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A named volume as the host binds it into a sandbox's /vol. */
export interface VolumeBind {
  /** Host dir of the volume (its loop-mounted ext4 image, or a plain dir without quotas). */
  source: string;
  /** Its name, the dir under /vol (checked by volumeMountPath before it gets here). */
  name: string;
  readOnly: boolean;
}

/** The host dir every sandbox sees at /vol: `<runDir>/vol`. */
export function volRootOf(runDir: string): string {
  return join(runDir, 'vol');
}

async function mountPoints(): Promise<string[]> {
  const table = await readFile('/proc/self/mountinfo', 'utf8');
  // Field 5 is the mount point; spaces in it are escaped as \040 (our paths have none).
  return table
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .filter(Boolean);
}

/**
 * Makes `<runDir>/vol` a mount of its own in its own shared peer group. The sandbox binds it at /vol;
 * runsc's gofer turns its copy into a slave, so volumes bound here after the sandbox started (a warm
 * spare, a kernel restored from a snapshot) still appear inside it, and a snapshot taken with an empty
 * /vol restores with any volumes. Without the shared group, mounts made later would never reach it.
 */
export async function prepareVolRoot(runDir: string): Promise<string> {
  const root = volRootOf(runDir);
  await mkdir(root, { recursive: true, mode: 0o755 });
  if (!(await mountPoints()).includes(root)) {
    // Private first, so the new group is this dir's alone (a shared host root would else join it).
    await run('mount', ['--bind', '--make-private', root, root]);
    await run('mount', ['--make-shared', root]);
  }
  return root;
}

/**
 * Binds named volumes at `<runDir>/vol/<name>` (already bound ones are left as they are). A read-only
 * volume is first bound and remounted read-only at a private staging point, then bound from there: a
 * remount's flags never propagate, so a read-only remount made in place would leave the sandbox's copy
 * writable; a bind of a read-only mount is read-only everywhere it propagates.
 */
export async function attachVolumes(runDir: string, volumes: VolumeBind[]): Promise<void> {
  if (volumes.length === 0) return;
  const root = await prepareVolRoot(runDir);
  const mounted = new Set(await mountPoints());
  for (const volume of volumes) {
    const target = join(root, volume.name);
    if (mounted.has(target)) continue;
    await mkdir(target, { recursive: true, mode: 0o755 });
    if (!volume.readOnly) {
      await run('mount', ['--bind', volume.source, target]);
      continue;
    }
    const staging = join(runDir, `vol-staging-${volume.name}`);
    await mkdir(staging, { recursive: true, mode: 0o700 });
    try {
      await run('mount', ['--bind', '--make-private', volume.source, staging]);
      await run('mount', ['-o', 'remount,bind,ro,nosuid,nodev', staging]);
      await run('mount', ['--bind', staging, target]);
    } finally {
      // rmdir, never a recursive delete: if the unmount failed, the volume's files are under it.
      await run('umount', [staging]).catch(() => undefined);
      await rmdir(staging).catch(() => undefined);
    }
  }
}

/**
 * Removes a sandbox's run dir, unbinding its volumes first: a recursive delete through a bound volume
 * would delete the volume's files. Throws, deleting nothing, if anything below it is still mounted.
 */
export async function removeRunDir(runDir: string): Promise<void> {
  const below = (points: string[]) => points.filter((point) => point.startsWith(`${runDir}/`));
  if (below(await mountPoints()).length > 0) {
    // Lazily: the container is gone, only its gofer's last references may still be closing.
    await run('umount', ['--recursive', '--lazy', volRootOf(runDir)]).catch(() => undefined);
    for (const point of below(await mountPoints()).reverse())
      await run('umount', ['--lazy', point]).catch(() => undefined);
    const left = below(await mountPoints());
    if (left.length > 0) throw new Error(`cannot remove ${runDir}: ${left.join(', ')} still mounted`);
  }
  await rm(runDir, { recursive: true, force: true });
}
