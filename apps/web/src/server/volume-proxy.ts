import { CSRF_HEADER, can, getMembership, resolveSession, SESSION_COOKIE } from '@kiln/accounts';
import { isUuid } from '@kiln/core';
import type { Db } from '@kiln/db';
import { workspaceToken } from '@kiln/kernel-protocol/client';
import { readCookie } from '../lib/cookies.ts';

export interface VolumeProxyOptions {
  db: Db;
  /** The kernel gateway; null when this deployment has none. */
  gateway: { url: string; secret: string } | null;
}

/** The gateway's operations and their methods, each marked a write (editors and up) or a read. */
const OPERATIONS: Record<string, Record<string, boolean>> = {
  tree: { GET: false },
  file: { GET: false, PUT: true },
  folder: { POST: true },
};

const PASSED_HEADERS = ['content-type', 'content-length', 'content-disposition', 'cache-control'];

function answer(status: number, message: string): Response {
  return Response.json({ message }, { status, headers: { 'cache-control': 'no-store' } });
}

/**
 * `/api/workspaces/<id>/volumes/<volume>/<tree|file|folder>?path=`: the workspace volume's file API
 * of the gateway, for members of the workspace (viewers read, editors write), with the gateway's
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
  if (!options.gateway) return answer(503, 'The kernel gateway is not configured');
  const url = new URL(request.url);
  const upstream = new URL(
    `${options.gateway.url}/kiln/volumes/${encodeURIComponent(target.volume)}/${target.op}`,
  );
  upstream.searchParams.set('path', url.searchParams.get('path') ?? '');
  const length = request.headers.get('content-length');
  const response = await fetch(upstream, {
    method: request.method,
    headers: {
      authorization: `token ${workspaceToken(options.gateway.secret, target.workspaceId)}`,
      ...(length ? { 'content-length': length } : {}),
    },
    body: request.method === 'PUT' ? request.body : undefined,
    // Streams the upload instead of buffering it (required by fetch for a stream body).
    ...(request.method === 'PUT' ? { duplex: 'half' } : {}),
  } as RequestInit);
  const headers = new Headers({ 'x-content-type-options': 'nosniff' });
  for (const name of PASSED_HEADERS) {
    const value = response.headers.get(name);
    if (value) headers.set(name, value);
  }
  return new Response(response.body, { status: response.status, headers });
}
