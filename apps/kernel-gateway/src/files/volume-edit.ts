import { constants } from 'node:fs';
import { type FileHandle, lstat, open, readdir, rename, rmdir, unlink } from 'node:fs/promises';
import { DomainError } from '@kiln/core';
import { openDirectory, parseVolumePath } from './volume-fs.ts';

/**
 * Rename and delete inside one volume. Every name is taken relative to a verified directory
 * descriptor (`/proc/self/fd/N/name`): rename and unlink never follow a final symlink, and a folder
 * is entered only through O_NOFOLLOW|O_DIRECTORY, so a link planted by a kernel, even mid-operation,
 * is removed or moved as a link and never leads outside the volume.
 */

const MAX_DEPTH = 64;

function describe(segments: string[]): string {
  return `/${segments.join('/')}`;
}

/** Moves a file or folder to another path of the same volume; the target must not exist. */
export async function renameVolumeEntry(root: string, from: string, to: string): Promise<void> {
  const source = parseVolumePath(from);
  const target = parseVolumePath(to);
  if (source.length === 0 || target.length === 0)
    throw new DomainError('BAD_REQUEST', 'The volume root cannot be renamed or replaced');
  if (target.length > source.length && source.every((segment, i) => target[i] === segment))
    throw new DomainError('BAD_REQUEST', 'A folder cannot be moved into itself');
  const fromDir = await openDirectory(root, source.slice(0, -1));
  try {
    const toDir = await openDirectory(root, target.slice(0, -1));
    try {
      const fromPath = `/proc/self/fd/${fromDir.fd}/${source.at(-1)}`;
      const toPath = `/proc/self/fd/${toDir.fd}/${target.at(-1)}`;
      const info = await lstat(fromPath).catch(() => null);
      if (!info || !(info.isFile() || info.isDirectory()))
        throw new DomainError('NOT_FOUND', `No such file or folder: ${describe(source)}`);
      if (
        await lstat(toPath).then(
          () => true,
          () => false,
        )
      )
        throw new DomainError('CONFLICT', `${describe(target)} already exists`);
      await rename(fromPath, toPath);
    } finally {
      await toDir.close();
    }
  } finally {
    await fromDir.close();
  }
}

/** Deletes a file, or a folder with everything in it. */
export async function removeVolumeEntry(root: string, path: string): Promise<void> {
  const segments = parseVolumePath(path);
  if (segments.length === 0) throw new DomainError('BAD_REQUEST', 'The volume root cannot be deleted');
  const parent = await openDirectory(root, segments.slice(0, -1));
  try {
    const name = segments.at(-1) as string;
    const info = await lstat(`/proc/self/fd/${parent.fd}/${name}`).catch(() => null);
    if (!info) throw new DomainError('NOT_FOUND', `No such file or folder: ${describe(segments)}`);
    await removeIn(parent, name, 0);
  } finally {
    await parent.close();
  }
}

/** Removes `name` inside the directory `dir` without following links at any depth. */
async function removeIn(dir: FileHandle, name: string, depth: number): Promise<void> {
  const path = `/proc/self/fd/${dir.fd}/${name}`;
  const info = await lstat(path).catch(() => null);
  if (!info) return;
  if (!info.isDirectory()) {
    // A file, link, FIFO or device node: unlink removes the name itself, never what a link points at.
    await unlink(path);
    return;
  }
  if (depth >= MAX_DEPTH)
    throw new DomainError('BAD_REQUEST', 'Folders nested this deep cannot be deleted here');
  let child: FileHandle;
  try {
    child = await open(path, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  } catch {
    // Swapped for a link or a file since lstat: remove that name instead.
    await unlink(path).catch(() => undefined);
    return;
  }
  try {
    for (const entry of await readdir(`/proc/self/fd/${child.fd}`)) await removeIn(child, entry, depth + 1);
  } finally {
    await child.close();
  }
  await rmdir(path);
}
