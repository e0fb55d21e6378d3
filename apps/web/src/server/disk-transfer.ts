import { workspaceToken } from '@kiln/kernel-protocol/client';
import type { DiskEntry, DiskTransfer, NodeDisk } from '@kiln/volumes';

/** Named volumes' quota for the node (mirrors the gateway's QUOTA_HEADER). */
const QUOTA_HEADER = 'x-kiln-volume-quota-mib';

/**
 * Copies disks between nodes over their file APIs: each file's bytes stream from one gateway's download
 * into the other's resumable upload (never whole in memory), folders and links are made and modes set
 * on the way. The web process only relays.
 */
export function createDiskTransfer(options: { secret: string }): DiskTransfer {
  const headers = (disk: NodeDisk): Record<string, string> => ({
    authorization: `token ${workspaceToken(options.secret, disk.workspaceId)}`,
    ...(disk.quotaMiB ? { [QUOTA_HEADER]: String(disk.quotaMiB) } : {}),
  });
  const url = (disk: NodeDisk, op: string, query: Record<string, string> = {}) => {
    const search = new URLSearchParams(query).toString();
    return `${disk.nodeUrl}/kiln/volumes/${encodeURIComponent(disk.volume)}${op ? `/${op}` : ''}${search ? `?${search}` : ''}`;
  };
  async function call(
    disk: NodeDisk,
    method: string,
    op: string,
    query: Record<string, string>,
    init: RequestInit = {},
  ) {
    const response = await fetch(url(disk, op, query), {
      ...init,
      method,
      headers: { ...headers(disk), ...(init.headers as Record<string, string> | undefined) },
    }).catch((error: unknown) => {
      throw new Error(
        `Node ${disk.nodeUrl} could not be reached (${error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error)})`,
      );
    });
    if (!response.ok) {
      const body = (await response.json().catch(() => null)) as { message?: string } | null;
      throw new Error(
        `Node ${disk.nodeUrl} answered ${response.status} to ${method} ${op || 'disk'}${query.path ? ` /${query.path}` : ''}: ${body?.message ?? response.statusText}`,
      );
    }
    return response;
  }

  async function copyFile(from: NodeDisk, to: NodeDisk, entry: DiskEntry): Promise<void> {
    const started = (await (
      await call(
        to,
        'POST',
        'upload',
        { path: entry.path },
        { headers: { 'upload-length': String(entry.size) } },
      )
    ).json()) as { id: string; done: boolean };
    if (started.done) return;
    const download = await call(from, 'GET', 'file', { path: entry.path });
    if (!download.body) throw new Error(`Node ${from.nodeUrl} sent no bytes for /${entry.path}`);
    const finished = (await (
      await call(to, 'PATCH', 'upload', { id: started.id, path: entry.path }, {
        headers: {
          'upload-offset': '0',
          'content-length': String(entry.size),
          'content-type': 'application/offset+octet-stream',
        },
        body: download.body,
        duplex: 'half',
      } as RequestInit)
    ).json()) as { done: boolean; offset: number };
    if (!finished.done)
      throw new Error(`The copy of /${entry.path} stopped at byte ${finished.offset} of ${entry.size}`);
  }

  return {
    async manifest(disk, hash) {
      const response = await call(disk, 'GET', 'manifest', hash ? { hash: '1' } : {});
      return (await response.json()) as { entries: DiskEntry[]; skipped: string[] };
    },
    async copy(from, to, entries, onEntry) {
      const setMode = (entry: DiskEntry) =>
        call(to, 'POST', 'mode', {
          path: entry.path,
          mode: entry.mode.toString(8),
          ...(entry.mtimeMs !== undefined ? { mtime: String(entry.mtimeMs) } : {}),
        });
      for (const entry of entries) {
        if (entry.kind === 'directory') await call(to, 'POST', 'folder', { path: entry.path });
        else if (entry.kind === 'symlink')
          await call(to, 'POST', 'link', { path: entry.path, target: entry.target ?? '' });
        else {
          await copyFile(from, to, entry);
          await setMode(entry);
        }
        await onEntry?.(entry);
      }
      // Folders last, children before parents: making what is inside a folder changes its time.
      for (const entry of [...entries].reverse()) if (entry.kind === 'directory') await setMode(entry);
    },
    async erase(disk) {
      const response = await fetch(url(disk, ''), { method: 'DELETE', headers: headers(disk) });
      if (response.ok || response.status === 404) return;
      const body = (await response.json().catch(() => null)) as { message?: string } | null;
      throw new Error(body?.message ?? `The node answered ${response.status}`);
    },
  };
}
