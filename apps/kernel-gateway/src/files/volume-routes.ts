import { DomainError } from '@kiln/core';
import { sendJson } from '../http/respond.ts';
import type { RouteContext, Router } from '../http/router.ts';
import {
  listVolume,
  makeVolumeDirectory,
  readVolumeFile,
  type VolumeOwner,
  writeVolumeFile,
} from './volume-fs.ts';

/**
 * The host directory of a workspace's volume, or null when it has none of that name. Today the only
 * volume is `workspace` (what kernels see at /workspace); named volumes (issue 15) add names here.
 */
export type VolumeResolver = (workspaceId: string, volume: string) => Promise<string | null>;

export interface VolumeRouteOptions {
  volumes: VolumeResolver;
  /** Owner of files and folders the gateway creates, so the sandbox user can change them. */
  owner?: VolumeOwner;
  maxUploadBytes: number;
}

const VOLUME_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

async function rootOf(context: RouteContext, options: VolumeRouteOptions): Promise<string> {
  const volume = context.params.volume ?? '';
  const missing = new DomainError('NOT_FOUND', `No volume named ${JSON.stringify(volume.slice(0, 64))}`);
  if (!VOLUME_NAME.test(volume)) throw missing;
  const root = await options.volumes(context.caller.workspaceId, volume);
  if (!root) throw missing;
  return root;
}

const pathOf = (context: RouteContext) => context.url.searchParams.get('path') ?? '';

/** ASCII fallback plus RFC 5987 UTF-8 name, so any file name downloads under its own name. */
function attachment(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

/** `/kiln/volumes/:volume/{tree,file,folder}?path=`: browse, download, upload and make folders. */
export function addVolumeRoutes(router: Router, options: VolumeRouteOptions): void {
  router
    .add('GET', '/kiln/volumes/:volume/tree', async (context) => {
      const entries = await listVolume(await rootOf(context, options), pathOf(context));
      sendJson(context.response, 200, { entries });
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
    .add('POST', '/kiln/volumes/:volume/folder', async (context) => {
      await makeVolumeDirectory(await rootOf(context, options), pathOf(context), options.owner);
      sendJson(context.response, 201, { ok: true });
    });
}
