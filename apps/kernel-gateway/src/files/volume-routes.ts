import { statfs } from 'node:fs/promises';
import { DomainError } from '@kiln/core';
import { sendJson } from '../http/respond.ts';
import type { RouteContext, Router } from '../http/router.ts';
import { removeVolumeEntry, renameVolumeEntry } from './volume-edit.ts';
import {
  listVolume,
  makeVolumeDirectory,
  readVolumeFile,
  type VolumeOwner,
  writeVolumeFile,
} from './volume-fs.ts';
import { makeVolumeLink, setVolumeMode, volumeManifest } from './volume-manifest.ts';
import { createUploads } from './volume-upload.ts';

/**
 * The host directory of a workspace's volume, or null when it has none of that name: `workspace`
 * (what kernels see at /workspace) or a named volume's id, whose disk is made with `quotaMiB`.
 */
export type VolumeResolver = (
  workspaceId: string,
  volume: string,
  quotaMiB?: number,
) => Promise<string | null>;

export interface VolumeRouteOptions {
  volumes: VolumeResolver;
  /**
   * Frees a named volume's disk or the workspace's /workspace disk (DELETE /kiln/volumes/:id, what the
   * web app's erase of a deleted or moved disk calls); without it that answers 404.
   */
  destroy?: (workspaceId: string, volume: string) => Promise<void>;
  /**
   * Why this node must not serve the disk (it moved to another node, or was deleted), or null. Asked
   * before the disk is resolved, since resolving makes a missing disk: a late request to the node a
   * disk moved away from must not make it again there.
   */
  refusal?: (workspaceId: string, volume: string) => Promise<string | null>;
  /** Owner of files and folders the gateway creates, so the sandbox user can change them. */
  owner?: VolumeOwner;
  maxUploadBytes: number;
  /** Largest resumable upload (default 1 TiB; the volume's quota is the real bound). */
  maxResumableBytes?: number;
}

const VOLUME_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** Named volumes' quota, from the web app that looked the volume's plan up. */
export const QUOTA_HEADER = 'x-kiln-volume-quota-mib';

async function rootOf(context: RouteContext, options: VolumeRouteOptions): Promise<string> {
  const volume = context.params.volume ?? '';
  const missing = new DomainError('NOT_FOUND', `No volume named ${JSON.stringify(volume.slice(0, 64))}`);
  if (!VOLUME_NAME.test(volume)) throw missing;
  const refused = await options.refusal?.(context.caller.workspaceId, volume);
  if (refused) throw new DomainError('CONFLICT', refused, { reason: 'disk_not_here' });
  const quota = Number(context.request.headers[QUOTA_HEADER] ?? Number.NaN);
  const root = await options.volumes(
    context.caller.workspaceId,
    volume,
    Number.isInteger(quota) && quota >= 16 ? quota : undefined,
  );
  if (!root) throw missing;
  return root;
}

const param = (context: RouteContext, name: string) => context.url.searchParams.get(name) ?? '';
const pathOf = (context: RouteContext) => param(context, 'path');
/** With `path`, an upload an earlier gateway process began can be found again. */
const recoverOf = (context: RouteContext, root: string) => {
  const path = param(context, 'path');
  return path ? { root, path } : undefined;
};
const scopeOf = (context: RouteContext) => `${context.caller.workspaceId}/${context.params.volume ?? ''}`;

/** ASCII fallback plus RFC 5987 UTF-8 name, so any file name downloads under its own name. */
function attachment(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

function byteHeader(context: RouteContext, name: string): number {
  const raw = context.request.headers[name];
  const value = typeof raw === 'string' && /^\d{1,16}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value)) throw new DomainError('BAD_REQUEST', `${name} must be a number of bytes`);
  return value;
}

/**
 * `/kiln/volumes/:volume/...?path=`: browse, download, upload (whole or resumable), make folders,
 * rename, delete, and report usage; `GET .../manifest` lists every file with its size (and SHA-256 with
 * `hash=1`) for copying a disk to another node; `DELETE /kiln/volumes/:volume` frees its disk.
 */
export function addVolumeRoutes(router: Router, options: VolumeRouteOptions): void {
  const uploads = createUploads({
    maxBytes: options.maxResumableBytes ?? 1024 ** 4,
    owner: options.owner,
  });
  router
    .add('GET', '/kiln/volumes/:volume/tree', async (context) => {
      const entries = await listVolume(await rootOf(context, options), pathOf(context));
      sendJson(context.response, 200, { entries });
    })
    .add('GET', '/kiln/volumes/:volume/usage', async (context) => {
      const info = await statfs(await rootOf(context, options));
      sendJson(context.response, 200, {
        usedBytes: (info.blocks - info.bfree) * info.bsize,
        totalBytes: info.blocks * info.bsize,
      });
    })
    .add('GET', '/kiln/volumes/:volume/file', async (context) => {
      const file = await readVolumeFile(await rootOf(context, options), pathOf(context));
      context.response.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-length': String(file.size),
        'content-disposition': attachment(file.name),
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
      });
      file.stream.pipe(context.response);
      context.response.once('close', () => file.stream.destroy());
    })
    .add('PUT', '/kiln/volumes/:volume/file', async (context) => {
      const declared = Number(context.request.headers['content-length'] ?? 0);
      if (declared > options.maxUploadBytes)
        throw new DomainError(
          'PAYLOAD_TOO_LARGE',
          `Uploads are limited to ${Math.floor(options.maxUploadBytes / 1024 / 1024)} MiB`,
        );
      const written = await writeVolumeFile(
        await rootOf(context, options),
        pathOf(context),
        context.request,
        {
          maxBytes: options.maxUploadBytes,
          owner: options.owner,
        },
      );
      sendJson(context.response, 201, written);
    })
    .add('DELETE', '/kiln/volumes/:volume/file', async (context) => {
      await removeVolumeEntry(await rootOf(context, options), pathOf(context));
      sendJson(context.response, 200, { ok: true });
    })
    .add('POST', '/kiln/volumes/:volume/folder', async (context) => {
      await makeVolumeDirectory(await rootOf(context, options), pathOf(context), options.owner);
      sendJson(context.response, 201, { ok: true });
    })
    .add('POST', '/kiln/volumes/:volume/move', async (context) => {
      await renameVolumeEntry(await rootOf(context, options), pathOf(context), param(context, 'to'));
      sendJson(context.response, 200, { ok: true });
    })
    .add('POST', '/kiln/volumes/:volume/upload', async (context) => {
      const root = await rootOf(context, options);
      const status = await uploads.start(
        scopeOf(context),
        root,
        pathOf(context),
        byteHeader(context, 'upload-length'),
      );
      context.response.setHeader('upload-offset', String(status.offset));
      sendJson(context.response, 201, status);
    })
    .add('GET', '/kiln/volumes/:volume/upload', async (context) => {
      const root = await rootOf(context, options);
      const status = await uploads.offset(scopeOf(context), param(context, 'id'), recoverOf(context, root));
      context.response.setHeader('upload-offset', String(status.offset));
      sendJson(context.response, 200, status);
    })
    .add('PATCH', '/kiln/volumes/:volume/upload', async (context) => {
      const root = await rootOf(context, options);
      const status = await uploads.append(
        scopeOf(context),
        param(context, 'id'),
        byteHeader(context, 'upload-offset'),
        context.request,
        recoverOf(context, root),
      );
      context.response.setHeader('upload-offset', String(status.offset));
      sendJson(context.response, status.done ? 201 : 200, status);
    })
    .add('DELETE', '/kiln/volumes/:volume/upload', async (context) => {
      const root = await rootOf(context, options);
      await uploads.cancel(scopeOf(context), param(context, 'id'), recoverOf(context, root));
      sendJson(context.response, 200, { ok: true });
    })
    .add('GET', '/kiln/volumes/:volume/manifest', async (context) => {
      const manifest = await volumeManifest(await rootOf(context, options), {
        hash: param(context, 'hash') === '1',
      });
      sendJson(context.response, 200, manifest);
    })
    .add('POST', '/kiln/volumes/:volume/link', async (context) => {
      await makeVolumeLink(
        await rootOf(context, options),
        pathOf(context),
        param(context, 'target'),
        options.owner,
      );
      sendJson(context.response, 201, { ok: true });
    })
    .add('POST', '/kiln/volumes/:volume/mode', async (context) => {
      const mode = param(context, 'mode');
      if (!/^[0-7]{1,4}$/.test(mode))
        throw new DomainError('BAD_REQUEST', 'mode must be octal permission bits');
      const mtime = param(context, 'mtime');
      if (mtime && !/^\d{1,15}$/.test(mtime))
        throw new DomainError('BAD_REQUEST', 'mtime must be whole milliseconds since 1970');
      await setVolumeMode(
        await rootOf(context, options),
        pathOf(context),
        Number.parseInt(mode, 8),
        mtime ? Number(mtime) : undefined,
      );
      sendJson(context.response, 200, { ok: true });
    })
    .add('DELETE', '/kiln/volumes/:volume', async (context) => {
      const volume = context.params.volume ?? '';
      if (!options.destroy || !(volume === 'workspace' || VOLUME_NAME.test(volume)))
        throw new DomainError('NOT_FOUND', 'No such volume');
      await options.destroy(context.caller.workspaceId, volume);
      sendJson(context.response, 200, { ok: true });
    });
}
