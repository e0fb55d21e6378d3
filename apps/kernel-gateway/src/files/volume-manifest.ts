import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { lchown, lstat, readdir, readlink, symlink } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { DomainError } from '@kiln/core';
import { openDirectory, openInside, parseVolumePath, UPLOAD_PREFIX, type VolumeOwner } from './volume-fs.ts';

/**
 * What copying a disk to another node needs beyond the file API: every entry of the volume with its
 * size, mode and (on request) SHA-256, so the copy can be checked against the original, plus making
 * symlinks and setting modes on the copy. Everything goes through verified descriptors as in
 * volume-fs.ts; links are recorded and recreated, never followed.
 */

/** One entry of a manifest; `path` is `/`-separated from the volume root. */
export interface ManifestEntry {
  path: string;
  kind: 'file' | 'directory' | 'symlink';
  /** Permission bits (no set-id bits). */
  mode: number;
  /** Bytes of a file; 0 otherwise. */
  size: number;
  /** The target of a symlink. */
  target?: string;
  /** SHA-256 (hex) of a file's bytes, when asked for. */
  sha256?: string;
  /** Last modification of a file or folder, in whole milliseconds (a copy carries it over). */
  mtimeMs?: number;
}

export interface VolumeManifest {
  entries: ManifestEntry[];
  /** Entries a copy cannot carry (FIFOs, sockets, devices, names with control characters). */
  skipped: string[];
}

/** More entries than this and the manifest is refused (a copy could not be proven complete). */
export const MAX_MANIFEST_ENTRIES = 200_000;
const BAD_CHARS = /[\p{Cc}\\]/u;
const PERMISSIONS = 0o1777;

async function sha256Of(root: string, segments: string[]): Promise<string> {
  const handle = await openInside(root, segments, constants.O_RDONLY);
  const hash = createHash('sha256');
  await pipeline(handle.createReadStream({ autoClose: true }), hash);
  return hash.digest('hex');
}

/** Every file, folder and link of the volume, parents before children, sorted by path. */
export async function volumeManifest(
  root: string,
  options: { hash?: boolean } = {},
): Promise<VolumeManifest> {
  const entries: ManifestEntry[] = [];
  const skipped: string[] = [];
  const walk = async (segments: string[]): Promise<void> => {
    const dir = await openDirectory(root, segments);
    const children: string[] = [];
    try {
      const base = `/proc/self/fd/${dir.fd}`;
      for (const name of (await readdir(base)).sort()) {
        const path = [...segments, name].join('/');
        if (name.startsWith(UPLOAD_PREFIX)) continue;
        if (BAD_CHARS.test(name) || Buffer.byteLength(name) > 255) {
          skipped.push(path);
          continue;
        }
        const info = await lstat(`${base}/${name}`).catch(() => null);
        if (!info) continue;
        if (entries.length >= MAX_MANIFEST_ENTRIES)
          throw new DomainError(
            'PAYLOAD_TOO_LARGE',
            `The volume holds more than ${MAX_MANIFEST_ENTRIES} entries; it cannot be copied in one piece`,
          );
        const mode = info.mode & PERMISSIONS;
        if (info.isDirectory()) {
          entries.push({ path, kind: 'directory', mode, size: 0, mtimeMs: Math.round(info.mtimeMs) });
          children.push(name);
        } else if (info.isFile()) {
          entries.push({ path, kind: 'file', mode, size: info.size, mtimeMs: Math.round(info.mtimeMs) });
        } else if (info.isSymbolicLink()) {
          entries.push({ path, kind: 'symlink', mode, size: 0, target: await readlink(`${base}/${name}`) });
        } else skipped.push(path);
      }
    } finally {
      await dir.close();
    }
    for (const name of children) await walk([...segments, name]);
  };
  await walk([]);
  entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  if (options.hash) {
    for (const entry of entries)
      if (entry.kind === 'file') entry.sha256 = await sha256Of(root, parseVolumePath(entry.path));
  }
  return { entries, skipped };
}

/** Makes a symlink at `path` (its folder must exist; nothing may be there yet). Never followed here. */
export async function makeVolumeLink(
  root: string,
  path: string,
  target: string,
  owner?: VolumeOwner,
): Promise<void> {
  const segments = parseVolumePath(path);
  const name = segments.at(-1);
  if (!name) throw new DomainError('BAD_REQUEST', 'Name the link');
  if (target.length === 0 || target.length > 4096 || target.includes('\0'))
    throw new DomainError('BAD_REQUEST', 'A link target is 1 to 4096 characters');
  const parent = await openDirectory(root, segments.slice(0, -1));
  try {
    const link = `/proc/self/fd/${parent.fd}/${name}`;
    await symlink(target, link).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'EEXIST') throw new DomainError('CONFLICT', `/${segments.join('/')} exists`);
      throw error;
    });
    if (owner) await lchown(link, owner.uid, owner.gid);
  } finally {
    await parent.close();
  }
}

/**
 * Sets the permission bits of a file or folder (set-id bits are never set) and, with `mtimeMs`, its
 * last modification (its last access is left as it is).
 */
export async function setVolumeMode(
  root: string,
  path: string,
  mode: number,
  mtimeMs?: number,
): Promise<void> {
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777)
    throw new DomainError('BAD_REQUEST', 'mode must be octal permission bits');
  if (mtimeMs !== undefined && (!Number.isSafeInteger(mtimeMs) || mtimeMs < 0))
    throw new DomainError('BAD_REQUEST', 'mtime must be whole milliseconds since 1970');
  const handle = await openInside(root, parseVolumePath(path), constants.O_RDONLY);
  try {
    await handle.chmod(mode & PERMISSIONS);
    if (mtimeMs !== undefined) await handle.utimes((await handle.stat()).atime, new Date(mtimeMs));
  } finally {
    await handle.close();
  }
}
