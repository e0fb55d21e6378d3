import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { type FileHandle, lstat, open, readdir, rename, unlink } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { DomainError } from '@kiln/core';
import {
  asVolumeError,
  openDirectory,
  openInside,
  parseVolumePath,
  UPLOAD_PREFIX,
  type VolumeOwner,
} from './volume-fs.ts';

/**
 * Resumable uploads (tus-like): `start` names the target and its length and returns an id; each
 * `append` sends bytes at the offset the server has (a mismatch is CONFLICT with the real offset),
 * so a client whose connection broke asks `offset` and continues from there. The bytes go to a
 * hidden file beside the target, on the volume and so within its quota, and are renamed into place
 * when the last byte arrives, with a note beside them so a restarted gateway can continue the upload
 * when the client names its path. Unfinished uploads idle for `expireMs` are deleted.
 */
export interface UploadStatus {
  id: string;
  offset: number;
  length: number;
  done: boolean;
}

interface Upload {
  scope: string;
  root: string;
  parent: string[];
  name: string;
  temporary: string;
  length: number;
  touched: number;
  busy: boolean;
}

export interface UploadOptions {
  maxBytes: number;
  owner?: VolumeOwner;
  expireMs?: number;
}

const UPLOAD_ID = /^[0-9a-f]{32}$/;
/** Suffix of the note (target name and length) beside an unfinished upload's bytes. */
const NOTE = '.json';

/** Where to look for an upload this process does not know: the volume and the upload's target path. */
export interface Recover {
  root: string;
  path: string;
}

/** The upload sessions of one gateway process. */
export function createUploads(options: UploadOptions) {
  const uploads = new Map<string, Upload>();
  const expireMs = options.expireMs ?? 24 * 3600_000;

  async function find(scope: string, id: string, recover?: Recover): Promise<Upload> {
    const known = UPLOAD_ID.test(id) ? uploads.get(id) : undefined;
    const upload = known ?? (recover && UPLOAD_ID.test(id) ? await fromDisk(scope, id, recover) : undefined);
    // Another workspace's or volume's upload looks like none.
    if (!upload || upload.scope !== scope)
      throw new DomainError('NOT_FOUND', 'No such upload (it finished or expired)');
    return upload;
  }

  /** An upload an earlier gateway process began, from the note it left beside the bytes. */
  async function fromDisk(scope: string, id: string, recover: Recover): Promise<Upload | undefined> {
    const segments = parseVolumePath(recover.path);
    const name = segments.at(-1);
    if (!name) return undefined;
    const parent = segments.slice(0, -1);
    const temporary = `${UPLOAD_PREFIX}${id}`;
    const note = await openInside(recover.root, [...parent, `${temporary}${NOTE}`], constants.O_RDONLY).catch(
      () => null,
    );
    if (!note) return undefined;
    try {
      const saved = JSON.parse(await note.readFile('utf8')) as { name?: unknown; length?: unknown };
      if (saved.name !== name || !Number.isSafeInteger(saved.length)) return undefined;
      const upload: Upload = {
        scope,
        root: recover.root,
        parent,
        name,
        temporary,
        length: saved.length as number,
        touched: Date.now(),
        busy: false,
      };
      uploads.set(id, upload);
      return upload;
    } catch {
      return undefined;
    } finally {
      await note.close();
    }
  }

  async function sizeOf(upload: Upload): Promise<number> {
    const handle = await openInside(upload.root, [...upload.parent, upload.temporary], constants.O_RDONLY);
    try {
      return (await handle.stat()).size;
    } finally {
      await handle.close();
    }
  }

  async function forget(upload: Upload): Promise<void> {
    uploads.delete(temporaryId(upload));
    const dir = await openDirectory(upload.root, upload.parent).catch(() => null);
    if (!dir) return;
    try {
      await unlink(`/proc/self/fd/${dir.fd}/${upload.temporary}`).catch(() => undefined);
      await unlink(`/proc/self/fd/${dir.fd}/${upload.temporary}${NOTE}`).catch(() => undefined);
    } finally {
      await dir.close();
    }
  }

  function temporaryId(upload: Upload): string {
    return upload.temporary.slice(UPLOAD_PREFIX.length);
  }

  async function sweep(now: number): Promise<void> {
    for (const upload of uploads.values())
      if (!upload.busy && now - upload.touched > expireMs) await forget(upload);
  }

  /**
   * Unfinished uploads of an earlier gateway process (restarted, so their sessions are gone) would
   * hold quota unseen: those idle past `expireMs` in the folder an upload starts in are deleted.
   */
  async function removeOrphans(dir: FileHandle, now: number): Promise<void> {
    const base = `/proc/self/fd/${dir.fd}`;
    for (const name of await readdir(base)) {
      const id = name.slice(UPLOAD_PREFIX.length).replace(NOTE, '');
      if (!name.startsWith(UPLOAD_PREFIX) || uploads.has(id)) continue;
      const info = await lstat(`${base}/${name}`).catch(() => null);
      if (info?.isFile() && now - info.mtimeMs > expireMs)
        await unlink(`${base}/${name}`).catch(() => undefined);
    }
  }

  return {
    /** Begins an upload of `length` bytes to `path` (replacing a regular file there once complete). */
    async start(scope: string, root: string, path: string, length: number): Promise<UploadStatus> {
      if (!Number.isSafeInteger(length) || length < 0)
        throw new DomainError('BAD_REQUEST', 'Upload-Length must be the file size in bytes');
      if (length > options.maxBytes)
        throw new DomainError(
          'PAYLOAD_TOO_LARGE',
          `Uploads are limited to ${Math.floor(options.maxBytes / 1024 / 1024)} MiB`,
        );
      await sweep(Date.now());
      const segments = parseVolumePath(path);
      const name = segments.at(-1);
      if (!name) throw new DomainError('BAD_REQUEST', 'Name the file to upload');
      if (name.startsWith(UPLOAD_PREFIX)) throw new DomainError('BAD_REQUEST', 'That name is reserved');
      const parent = segments.slice(0, -1);
      const dir = await openDirectory(root, parent);
      const id = randomBytes(16).toString('hex');
      const temporary = `${UPLOAD_PREFIX}${id}`;
      try {
        await removeOrphans(dir, Date.now());
        const existing = await lstat(`/proc/self/fd/${dir.fd}/${name}`).catch(() => null);
        if (existing?.isDirectory()) throw new DomainError('CONFLICT', `/${segments.join('/')} is a folder`);
        const file = await open(
          `/proc/self/fd/${dir.fd}/${temporary}`,
          constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
          0o644,
        );
        try {
          if (options.owner) await file.chown(options.owner.uid, options.owner.gid);
        } finally {
          await file.close();
        }
        // So a restarted gateway can take the upload up again when the client comes back with its id.
        const note = await open(
          `/proc/self/fd/${dir.fd}/${temporary}${NOTE}`,
          constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
          0o644,
        );
        try {
          await note.writeFile(JSON.stringify({ name, length }));
        } finally {
          await note.close();
        }
      } finally {
        await dir.close();
      }
      const upload: Upload = {
        scope,
        root,
        parent,
        name,
        temporary,
        length,
        touched: Date.now(),
        busy: false,
      };
      uploads.set(id, upload);
      if (length === 0) return this.append(scope, id, 0, Readable.from([]));
      return { id, offset: 0, length, done: false };
    },

    /** How many bytes of the upload the server has. */
    async offset(scope: string, id: string, recover?: Recover): Promise<UploadStatus> {
      const upload = await find(scope, id, recover);
      return { id, offset: await sizeOf(upload), length: upload.length, done: false };
    },

    /** Appends `body` at `offset`; renames the file into place when it is complete. */
    async append(
      scope: string,
      id: string,
      offset: number,
      body: Readable,
      recover?: Recover,
    ): Promise<UploadStatus> {
      const upload = await find(scope, id, recover);
      if (upload.busy) throw new DomainError('CONFLICT', 'This upload is already receiving data');
      upload.busy = true;
      try {
        const handle = await openInside(
          upload.root,
          [...upload.parent, upload.temporary],
          constants.O_WRONLY | constants.O_APPEND,
        );
        let size: number;
        try {
          size = (await handle.stat()).size;
          if (size !== offset)
            throw new DomainError('CONFLICT', `The upload is at byte ${size}, not ${offset}`, {
              offset: size,
            });
          for await (const chunk of body) {
            const bytes = chunk as Buffer;
            if (size + bytes.byteLength > upload.length)
              throw new DomainError('BAD_REQUEST', 'More bytes were sent than the upload announced');
            await handle.write(bytes);
            size += bytes.byteLength;
            upload.touched = Date.now();
          }
        } catch (error) {
          // A dropped connection is what resuming is for: the bytes so far stay, the client asks the offset.
          if ((error as NodeJS.ErrnoException).code === 'ECONNRESET')
            throw new DomainError('BAD_REQUEST', 'The upload was interrupted; resume from its offset');
          throw asVolumeError(error);
        } finally {
          await handle.close();
        }
        if (size < upload.length) return { id, offset: size, length: upload.length, done: false };
        const dir = await openDirectory(upload.root, upload.parent);
        try {
          const target = await lstat(`/proc/self/fd/${dir.fd}/${upload.name}`).catch(() => null);
          if (target?.isDirectory()) throw new DomainError('CONFLICT', `${upload.name} is now a folder`);
          await rename(
            `/proc/self/fd/${dir.fd}/${upload.temporary}`,
            `/proc/self/fd/${dir.fd}/${upload.name}`,
          );
          await unlink(`/proc/self/fd/${dir.fd}/${upload.temporary}${NOTE}`).catch(() => undefined);
        } finally {
          await dir.close();
        }
        uploads.delete(id);
        return { id, offset: size, length: upload.length, done: true };
      } finally {
        upload.busy = false;
      }
    },

    /** Gives an upload up and deletes what it wrote. */
    async cancel(scope: string, id: string, recover?: Recover): Promise<void> {
      await forget(await find(scope, id, recover));
    },
  };
}

export type Uploads = ReturnType<typeof createUploads>;
