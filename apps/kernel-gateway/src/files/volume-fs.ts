import { randomBytes } from 'node:crypto';
import { constants, type ReadStream } from 'node:fs';
import {
  type FileHandle,
  lstat,
  mkdir,
  open,
  readdir,
  readlink,
  realpath,
  rename,
  unlink,
} from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { DomainError } from '@kiln/core';

/**
 * File operations inside one volume root, safe against a hostile tenant. The kernel writes the same
 * directory, so it may plant `..`-free paths that still lead out: symlinks (to /etc, to another
 * workspace), FIFOs that block a reader, device nodes, or a directory swapped for a symlink between
 * a check and a use. The gateway runs as root, so every access goes through a file descriptor that
 * is verified afterwards: the final component is opened with O_NOFOLLOW, and `/proc/self/fd/N`
 * (the kernel's own record of what the descriptor is) must lie inside the root. New files are
 * created through a verified directory descriptor, never through a path that could be re-resolved.
 */

/** One entry of a listing. */
export interface VolumeEntry {
  name: string;
  /** Path from the volume root, `/`-separated, no leading slash. */
  path: string;
  kind: 'file' | 'directory';
  size: number;
  modified: string;
}

/** Who owns files the gateway creates (the sandbox uid, so kernels can change them). */
export interface VolumeOwner {
  uid: number;
  gid: number;
}

const MAX_PATH = 1024;
const MAX_SEGMENT = 255;
// Control characters and backslashes never name a file a user made on purpose; refusing them keeps
// names printable in the UI and the Content-Disposition header.
const BAD_CHARS = /[\p{Cc}\\]/u;
const MAX_ENTRIES = 5000;
/** Unfinished uploads live beside their target under this prefix (on the volume, within its quota). */
export const UPLOAD_PREFIX = '.kiln-upload-';

/** A full volume (ENOSPC, or EDQUOT) as an error the user can act on; other errors unchanged. */
export function asVolumeError(error: unknown): unknown {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT')
    return new DomainError('PAYLOAD_TOO_LARGE', 'No space left on the volume: its quota is used up');
  return error;
}

const notFound = (path: string) => new DomainError('NOT_FOUND', `No such file or folder: /${path}`);

/**
 * Splits a user-supplied path into safe segments. Leading, trailing and repeated slashes are
 * tolerated; `.`, `..`, control characters and over-long names are refused outright.
 */
export function parseVolumePath(input: string): string[] {
  if (input.length > MAX_PATH) throw new DomainError('BAD_REQUEST', 'Path is too long');
  if (BAD_CHARS.test(input))
    throw new DomainError('BAD_REQUEST', 'Path contains a character not allowed in names');
  const segments = input.split('/').filter((segment) => segment !== '');
  for (const segment of segments) {
    if (segment === '.' || segment === '..')
      throw new DomainError('BAD_REQUEST', 'Path may not contain . or .. segments');
    if (Buffer.byteLength(segment) > MAX_SEGMENT)
      throw new DomainError('BAD_REQUEST', 'A name in the path is too long');
  }
  return segments;
}

/** Where a descriptor really points: the kernel's answer, immune to later renames of its path. */
async function realPathOf(handle: FileHandle): Promise<string> {
  return readlink(`/proc/self/fd/${handle.fd}`);
}

function inside(root: string, real: string): boolean {
  return real === root || real.startsWith(`${root}/`);
}

/** Opens `segments` below `root` with `flags | O_NOFOLLOW` and proves the result lies inside root. */
export async function openInside(volumeRoot: string, segments: string[], flags: number): Promise<FileHandle> {
  // The root itself may sit under a symlink (/tmp on some hosts); compare real paths with real paths.
  const root = await realpath(volumeRoot);
  const path = [root, ...segments].join('/');
  let handle: FileHandle;
  try {
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
    handle = await open(path, flags | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // A symlink as the last component fails with ELOOP, or ENOTDIR when a folder was asked for.
    const link = await lstat(path).then(
      (info) => info.isSymbolicLink(),
      () => false,
    );
    if (link) throw new DomainError('FORBIDDEN', `/${segments.join('/')} is a link; links are not followed`);
    if (code === 'ENOENT' || code === 'ENOTDIR') throw notFound(segments.join('/'));
    // ELOOP: the last component is a symlink. Refused, whatever it points at.
    if (code === 'ELOOP' || code === 'EACCES' || code === 'ENXIO')
      throw new DomainError('FORBIDDEN', `Not a regular file or folder: /${segments.join('/')}`);
    throw error;
  }
  const real = await realPathOf(handle);
  if (!inside(root, real)) {
    await handle.close();
    throw new DomainError('FORBIDDEN', `/${segments.join('/')} leads outside the volume`);
  }
  return handle;
}

/** Opens a directory of the volume (the root itself for no segments), verified. */
export function openDirectory(root: string, segments: string[]): Promise<FileHandle> {
  return openInside(root, segments, constants.O_RDONLY | constants.O_DIRECTORY);
}

/** Lists a folder: files and folders only (symlinks and special files are not shown), sorted. */
export async function listVolume(root: string, path: string): Promise<VolumeEntry[]> {
  const segments = parseVolumePath(path);
  const dir = await openDirectory(root, segments);
  try {
    const base = `/proc/self/fd/${dir.fd}`;
    const names = (await readdir(base)).slice(0, MAX_ENTRIES);
    const entries: VolumeEntry[] = [];
    for (const name of names) {
      if (BAD_CHARS.test(name) || name.startsWith(UPLOAD_PREFIX)) continue;
      const info = await lstat(`${base}/${name}`).catch(() => null);
      if (!info || !(info.isFile() || info.isDirectory())) continue;
      entries.push({
        name,
        path: [...segments, name].join('/'),
        kind: info.isDirectory() ? 'directory' : 'file',
        size: info.isFile() ? info.size : 0,
        modified: info.mtime.toISOString(),
      });
    }
    return entries.sort((a, b) =>
      a.kind === b.kind ? a.name.localeCompare(b.name) : a.kind === 'directory' ? -1 : 1,
    );
  } finally {
    await dir.close();
  }
}

/** A regular file of the volume, opened for reading. */
export async function readVolumeFile(
  root: string,
  path: string,
): Promise<{ name: string; size: number; stream: ReadStream }> {
  const segments = parseVolumePath(path);
  if (segments.length === 0) throw new DomainError('BAD_REQUEST', 'Name a file to download');
  const handle = await openInside(root, segments, constants.O_RDONLY);
  const info = await handle.stat();
  if (!info.isFile()) {
    await handle.close();
    throw new DomainError('FORBIDDEN', `Not a regular file: /${segments.join('/')}`);
  }
  const stream = handle.createReadStream({ autoClose: true });
  return { name: segments.at(-1) as string, size: info.size, stream };
}

/** Creates a folder (and missing parents), each step checked; existing folders are fine. */
export async function makeVolumeDirectory(root: string, path: string, owner?: VolumeOwner): Promise<void> {
  const segments = parseVolumePath(path);
  if (segments.length === 0) return;
  for (let depth = 1; depth <= segments.length; depth++) {
    const parent = await openDirectory(root, segments.slice(0, depth - 1));
    try {
      const target = `/proc/self/fd/${parent.fd}/${segments[depth - 1]}`;
      const info = await lstat(target).catch(() => null);
      if (info?.isDirectory()) continue;
      if (info?.isSymbolicLink())
        throw new DomainError(
          'FORBIDDEN',
          `/${segments.slice(0, depth).join('/')} is a link; links are not followed`,
        );
      if (info)
        throw new DomainError(
          'CONFLICT',
          `/${segments.slice(0, depth).join('/')} exists and is not a folder`,
        );
      await mkdir(target, { mode: 0o755 });
      const created = await openDirectory(root, segments.slice(0, depth));
      try {
        if (owner) await created.chown(owner.uid, owner.gid);
      } finally {
        await created.close();
      }
    } finally {
      await parent.close();
    }
  }
}

/**
 * Writes `body` to a file of the volume (replacing a regular file of that name) at most `maxBytes`
 * long. The bytes go to a temporary name in the verified parent folder and are renamed into place,
 * so a failed or oversized upload leaves the old file as it was.
 */
export async function writeVolumeFile(
  root: string,
  path: string,
  body: Readable,
  options: { maxBytes: number; owner?: VolumeOwner },
): Promise<{ size: number }> {
  const segments = parseVolumePath(path);
  const name = segments.at(-1);
  if (!name) throw new DomainError('BAD_REQUEST', 'Name the file to upload');
  const parent = await openDirectory(root, segments.slice(0, -1));
  const base = `/proc/self/fd/${parent.fd}`;
  const temporary = `${base}/${UPLOAD_PREFIX}${randomBytes(8).toString('hex')}`;
  try {
    const existing = await lstat(`${base}/${name}`).catch(() => null);
    // A link in the way is replaced by the upload (rename never writes through it).
    if (existing && !existing.isFile() && !existing.isSymbolicLink())
      throw new DomainError('CONFLICT', `/${segments.join('/')} exists and is not a regular file`);
    const file = await open(
      temporary,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
      0o644,
    );
    let size = 0;
    try {
      for await (const chunk of body) {
        size += (chunk as Buffer).byteLength;
        if (size > options.maxBytes)
          throw new DomainError(
            'PAYLOAD_TOO_LARGE',
            `Uploads are limited to ${Math.floor(options.maxBytes / 1024 / 1024)} MiB`,
          );
        await file.write(chunk as Buffer);
      }
      if (options.owner) await file.chown(options.owner.uid, options.owner.gid);
    } finally {
      await file.close();
    }
    await rename(temporary, `${base}/${name}`);
    return { size };
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw asVolumeError(error);
  } finally {
    await parent.close();
  }
}
