import { CSRF_HEADER, can, getMembership, resolveSession, SESSION_COOKIE } from '@kiln/accounts';
import { ERROR_STATUS, isDomainError, isUuid } from '@kiln/core';
import type { Db } from '@kiln/db';
import { workspaceToken } from '@kiln/kernel-protocol/client';
import { DISK_MOVING_MESSAGE, diskMoving, noteDiskWrite, type Volumes } from '@kiln/volumes';
import { readCookie } from '../lib/cookies.ts';

/** Named volumes' quota for the node (mirrors the gateway's QUOTA_HEADER). */
const QUOTA_HEADER = 'x-kiln-volume-quota-mib';

export interface VolumeProxyOptions {
  db: Db;
  /**
   * The node holding the volume (`workspace`: the /workspace folder): one URL, or found per volume once
   * the caller may see it (null: no node online); null when this deployment has no gateway.
   */
  gateway: {
    url: string | ((workspaceId: string, volume: string) => Promise<string | null>);
    secret: string;
  } | null;
  /** Looks named volumes up (they must be the workspace's) with their plan quota. */
  volumes: Pick<Volumes, 'get'>;
}

/** The gateway's operations and their methods, each marked a write (editors and up) or a read. */
const OPERATIONS: Record<string, Record<string, boolean>> = {
  tree: { GET: false },
  usage: { GET: false },
  file: { GET: false, PUT: true, DELETE: true },
  folder: { POST: true },
  move: { POST: true },
  upload: { POST: true, GET: true, PATCH: true, DELETE: true },
};

const PASSED_HEADERS = [
  'content-type',
  'content-length',
  'content-disposition',
  'cache-control',
  'upload-offset',
];
const FORWARDED_HEADERS = ['content-length', 'upload-length', 'upload-offset'];
const QUERY = ['path', 'to', 'id'];
const STREAMED = new Set(['PUT', 'PATCH']);

/** A write the node finished after the disk had moved away: it landed on the copy being erased. */
const MOVED_DURING_WRITE =
  'This disk was moved to another node while your change was being made, so the change did not land on it; try again.';

function answer(status: number, message: string): Response {
  return Response.json({ message }, { status, headers: { 'cache-control': 'no-store' } });
}

/**
 * `/api/workspaces/<id>/volumes/<workspace|volume id>/<op>?path=`: a volume's file API on the node
 * that holds it, for members of the workspace (viewers list and download, editors write), with the gateway's
 * answers (including its path-safety refusals) passed through. Writes echo the session's CSRF token.
 */
export async function proxyVolumeRequest(
  request: Request,
  target: { workspaceId: string; volume: string; op: string },
  options: VolumeProxyOptions,
): Promise<Response> {
  const methods = Object.hasOwn(OPERATIONS, target.op) ? OPERATIONS[target.op] : undefined;
  if (!methods) return answer(404, 'No such file operation');
  const write = Object.hasOwn(methods, request.method) ? methods[request.method] : undefined;
  if (write === undefined) return answer(405, `${request.method} is not allowed here`);
  const token = readCookie(request.headers.get('cookie'), SESSION_COOKIE);
  const session = token ? await resolveSession(options.db, token) : null;
  if (!session) return answer(401, 'Sign in to see the workspace files');
  // Unknown workspaces and workspaces the user is not in look the same.
  const notFound = answer(404, 'Workspace not found');
  if (!isUuid(target.workspaceId)) return notFound;
  const membership = await getMembership(options.db, target.workspaceId, session.user.id);
  if (!membership) return notFound;
  if (write) {
    if (!can(membership.role, 'notebook.edit'))
      return answer(403, 'Viewers can browse and download files, not change them');
    if (request.headers.get(CSRF_HEADER) !== session.session.csrfToken)
      return answer(403, 'CSRF check failed; reload the page');
  }
  const forwarded: Record<string, string> = {};
  if (target.volume !== 'workspace') {
    // Another workspace's volume id looks like one that does not exist.
    if (!isUuid(target.volume)) return answer(404, 'Volume not found');
    const volume = await options.volumes.get(target.workspaceId, target.volume).catch(() => null);
    if (!volume) return answer(404, 'Volume not found');
    forwarded[QUOTA_HEADER] = String(volume.quotaMiB);
  }
  if (!options.gateway) return answer(503, 'The kernel gateway is not configured');
  const { url: where } = options.gateway;
  let base: string | null;
  try {
    base = typeof where === 'string' ? where : await where(target.workspaceId, target.volume);
  } catch (error) {
    if (isDomainError(error)) return answer(ERROR_STATUS[error.code], error.message);
    throw error;
  }
  if (!base) return answer(503, 'No kernel gateway node is online');
  // While the disk is being moved to another node, a write could land on the copy being left behind.
  const disk = { workspaceId: target.workspaceId, volume: target.volume };
  if (write && (await diskMoving(options.db, disk))) return answer(409, DISK_MOVING_MESSAGE);
  const url = new URL(request.url);
  const upstream = new URL(`${base}/kiln/volumes/${encodeURIComponent(target.volume)}/${target.op}`);
  for (const name of QUERY) {
    const value = url.searchParams.get(name);
    if (value !== null || name === 'path') upstream.searchParams.set(name, value ?? '');
  }
  for (const name of FORWARDED_HEADERS) {
    const value = request.headers.get(name);
    if (value) forwarded[name] = value;
  }
  const streamed = STREAMED.has(request.method);
  const response = await fetch(upstream, {
    method: request.method,
    headers: {
      authorization: `token ${workspaceToken(options.gateway.secret, target.workspaceId)}`,
      ...forwarded,
    },
    body: streamed ? request.body : undefined,
    // Streams the upload instead of buffering it (required by fetch for a stream body).
    ...(streamed ? { duplex: 'half' } : {}),
  } as RequestInit);
  if (write && response.ok && typeof where !== 'string') {
    // Done on the node. A move that has not switched yet will not now (the mark stops it), so the write
    // stays on the disk; one that switched meanwhile left it on the old copy: say so, not "done".
    await noteDiskWrite(options.db, disk);
    const home = await where(target.workspaceId, target.volume).catch(() => null);
    if (home !== base) {
      await response.body?.cancel().catch(() => undefined);
      return answer(409, MOVED_DURING_WRITE);
    }
  }
  const headers = new Headers({ 'x-content-type-options': 'nosniff' });
  for (const name of PASSED_HEADERS) {
    const value = response.headers.get(name);
    if (value) headers.set(name, value);
  }
  return new Response(response.body, { status: response.status, headers });
}
