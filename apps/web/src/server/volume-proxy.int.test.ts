import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSession, signUp, TEST_PASSWORD_HASH_OPTIONS } from '@kiln/accounts';
import { createTestDatabase, type TestDatabase } from '@kiln/db/testing';
import { createGateway, type Gateway } from '@kiln/kernel-gateway';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { proxyVolumeRequest, type VolumeProxyOptions } from './volume-proxy.ts';

const SECRET = 'volume-proxy-test-secret-0123456789';
let database: TestDatabase;
let gateway: Gateway;
let base: string;
let options: VolumeProxyOptions;
let workspaceId: string;
const users: Record<'editor' | 'viewer' | 'stranger', { cookie: string; csrf: string }> = {
  editor: { cookie: '', csrf: '' },
  viewer: { cookie: '', csrf: '' },
  stranger: { cookie: '', csrf: '' },
};

beforeAll(async () => {
  database = await createTestDatabase();
  const { db } = database;
  const hash = { passwordHash: TEST_PASSWORD_HASH_OPTIONS };
  const made = await Promise.all(
    (['editor', 'viewer', 'stranger'] as const).map((who) =>
      signUp(db, { email: `${who}@kiln.test`, password: 'a long enough password', name: who }, hash),
    ),
  );
  workspaceId = made[0]?.personalWorkspace.id ?? '';
  await db.membership.create({ data: { workspaceId, userId: made[1]?.user.id ?? '', role: 'VIEWER' } });
  for (const [i, who] of (['editor', 'viewer', 'stranger'] as const).entries()) {
    const session = await createSession(db, { userId: made[i]?.user.id ?? '' });
    users[who] = { cookie: `kiln_session=${session.token}`, csrf: session.csrfToken };
  }
  base = await mkdtemp(join(tmpdir(), 'kiln-volume-proxy-'));
  // A real gateway; no kernel is started, so its sandbox driver is never asked for one.
  gateway = createGateway({
    token: SECRET,
    driver: {
      start: () => Promise.reject(new Error('no kernels in this test')),
      capabilities: () => ({ gpu: false, checkpoint: false, runscVersion: 'none' }),
      close: async () => {},
    },
    volumes: async (id, volume) => {
      if (volume !== 'workspace') return null;
      const root = join(base, id);
      await mkdir(root, { recursive: true });
      return root;
    },
  });
  const { url } = await gateway.listen(0, '127.0.0.1');
  options = { db, gateway: { url, secret: SECRET } };
});

afterAll(async () => {
  await gateway?.close();
  await database?.drop();
  if (base) await rm(base, { recursive: true, force: true });
});

function call(
  who: keyof typeof users | null,
  method: string,
  op: string,
  path: string,
  init: { body?: string; csrf?: string | null; workspace?: string; volume?: string } = {},
): Promise<Response> {
  const user = who ? users[who] : null;
  const headers: Record<string, string> = {};
  if (user) headers.cookie = user.cookie;
  const csrf = init.csrf === undefined ? user?.csrf : init.csrf;
  if (csrf) headers['x-kiln-csrf'] = csrf;
  const workspace = init.workspace ?? workspaceId;
  const volume = init.volume ?? 'workspace';
  const request = new Request(
    `http://kiln.test/api/workspaces/${workspace}/volumes/${volume}/${op}?path=${encodeURIComponent(path)}`,
    { method, headers, body: init.body },
  );
  return proxyVolumeRequest(request, { workspaceId: workspace, volume, op }, options);
}

describe('workspace files through the web app', () => {
  it('lets editors upload and make folders, and every member browse and download', async () => {
    expect((await call('editor', 'POST', 'folder', 'data')).status).toBe(201);
    expect((await call('editor', 'PUT', 'file', 'data/a.txt', { body: 'hello' })).status).toBe(201);
    expect(await readFile(join(base, workspaceId, 'data/a.txt'), 'utf8')).toBe('hello');
    for (const who of ['editor', 'viewer'] as const) {
      const tree = await call(who, 'GET', 'tree', 'data');
      expect(tree.status).toBe(200);
      expect(await tree.json()).toMatchObject({ entries: [{ name: 'a.txt', kind: 'file', size: 5 }] });
      const file = await call(who, 'GET', 'file', 'data/a.txt');
      expect(await file.text()).toBe('hello');
      expect(file.headers.get('content-disposition')).toContain('a.txt');
    }
  });

  it('refuses viewers writing, writes without the CSRF token, strangers and the signed out', async () => {
    const viewerWrite = await call('viewer', 'PUT', 'file', 'v.txt', { body: 'x' });
    expect(viewerWrite.status).toBe(403);
    expect((await call('viewer', 'POST', 'folder', 'v')).status).toBe(403);
    expect((await call('editor', 'PUT', 'file', 'c.txt', { body: 'x', csrf: null })).status).toBe(403);
    expect((await call('editor', 'PUT', 'file', 'c.txt', { body: 'x', csrf: 'forged' })).status).toBe(403);
    expect((await call('stranger', 'GET', 'tree', '')).status).toBe(404);
    expect((await call('stranger', 'GET', 'file', 'data/a.txt')).status).toBe(404);
    expect((await call(null, 'GET', 'tree', '')).status).toBe(401);
    expect((await call('editor', 'GET', 'tree', '', { workspace: 'not-a-uuid' })).status).toBe(404);
    await expect(readFile(join(base, workspaceId, 'v.txt'))).rejects.toThrow();
    await expect(readFile(join(base, workspaceId, 'c.txt'))).rejects.toThrow();
  });

  it('passes the gateway path checks through and knows only its operations', async () => {
    expect((await call('editor', 'GET', 'file', '../../etc/passwd')).status).toBe(400);
    expect((await call('editor', 'PUT', 'file', '../escape', { body: 'x' })).status).toBe(400);
    expect((await call('editor', 'GET', 'tree', '', { volume: 'other' })).status).toBe(404);
    expect((await call('editor', 'DELETE', 'file', 'data/a.txt')).status).toBe(405);
    expect((await call('editor', 'GET', 'folder', 'data')).status).toBe(405);
    expect((await call('editor', 'GET', 'shell', '')).status).toBe(404);
  });
});
