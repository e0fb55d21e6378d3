import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSession, signUp, TEST_PASSWORD_HASH_OPTIONS } from '@kiln/accounts';
import { createTestDatabase, type TestDatabase } from '@kiln/db/testing';
import { createGateway, type Gateway } from '@kiln/kernel-gateway';
import { claimDiskMove, createVolumes, settleClaim } from '@kiln/volumes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { proxyVolumeRequest, type VolumeProxyOptions } from './volume-proxy.ts';

const SECRET = 'volume-proxy-test-secret-0123456789';
let database: TestDatabase;
let gateway: Gateway;
let base: string;
let options: VolumeProxyOptions;
let workspaceId: string;
let namedVolumeId: string;
let foreignVolumeId: string;
const quotas = new Map<string, number | undefined>();
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
    volumes: async (id, volume, quotaMiB) => {
      if (volume !== 'workspace' && !quotaMiB) return null;
      quotas.set(volume, quotaMiB);
      const root = volume === 'workspace' ? join(base, id) : join(base, `${id}--${volume}`);
      await mkdir(root, { recursive: true });
      return root;
    },
  });
  const { url } = await gateway.listen(0, '127.0.0.1');
  const volumes = createVolumes({ db });
  options = { db, gateway: { url, secret: SECRET }, volumes };
  namedVolumeId = (await volumes.create(workspaceId, { userId: null }, 'datasets')).id;
  const strangerWorkspace = made[2]?.personalWorkspace.id ?? '';
  foreignVolumeId = (await volumes.create(strangerWorkspace, { userId: null }, 'private')).id;
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
  init: {
    body?: string;
    csrf?: string | null;
    workspace?: string;
    volume?: string;
    query?: Record<string, string>;
    headers?: Record<string, string>;
  } = {},
): Promise<Response> {
  const user = who ? users[who] : null;
  const headers: Record<string, string> = { ...init.headers };
  if (user) headers.cookie = user.cookie;
  const csrf = init.csrf === undefined ? user?.csrf : init.csrf;
  if (csrf) headers['x-kiln-csrf'] = csrf;
  const workspace = init.workspace ?? workspaceId;
  const volume = init.volume ?? 'workspace';
  const request = new Request(
    `http://kiln.test/api/workspaces/${workspace}/volumes/${volume}/${op}?${new URLSearchParams({ path, ...init.query })}`,
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
    expect((await call('editor', 'PATCH', 'file', 'data/a.txt')).status).toBe(405);
    expect((await call('editor', 'GET', 'folder', 'data')).status).toBe(405);
    expect((await call('editor', 'GET', 'shell', '')).status).toBe(404);
  });
});

describe('named volumes through the web app', () => {
  it("reaches the workspace volume by id with its plan quota; other workspaces' volumes are not found", async () => {
    expect(
      (await call('editor', 'PUT', 'file', 'x.csv', { volume: namedVolumeId, body: '1,2' })).status,
    ).toBe(201);
    expect(await readFile(join(base, `${workspaceId}--${namedVolumeId}`, 'x.csv'), 'utf8')).toBe('1,2');
    // Starter: 10 GiB per volume, from @kiln/billing's plans.
    expect(quotas.get(namedVolumeId)).toBe(10 * 1024);
    const usage = await call('viewer', 'GET', 'usage', '', { volume: namedVolumeId });
    expect(await usage.json()).toMatchObject({
      usedBytes: expect.any(Number),
      totalBytes: expect.any(Number),
    });
    for (const volume of [foreignVolumeId, '00000000-0000-4000-8000-000000000000', 'datasets']) {
      const answer = await call('editor', 'GET', 'tree', '', { volume });
      expect(answer.status, volume).toBe(404);
    }
    expect(quotas.has(foreignVolumeId)).toBe(false);
  });

  it('lets viewers list and download but not rename, delete or upload', async () => {
    const volume = namedVolumeId;
    await call('editor', 'PUT', 'file', 'keep.txt', { volume, body: 'kept' });
    expect(await (await call('viewer', 'GET', 'file', 'keep.txt', { volume })).text()).toBe('kept');
    const refused = [
      await call('viewer', 'DELETE', 'file', 'keep.txt', { volume }),
      await call('viewer', 'POST', 'move', 'keep.txt', { volume, query: { to: 'moved.txt' } }),
      await call('viewer', 'POST', 'upload', 'up.bin', { volume, headers: { 'upload-length': '3' } }),
    ];
    expect(refused.map((answer) => answer.status)).toEqual([403, 403, 403]);
    expect(await readFile(join(base, `${workspaceId}--${volume}`, 'keep.txt'), 'utf8')).toBe('kept');
  });

  it('runs a resumable upload, rename and delete for editors', async () => {
    const volume = namedVolumeId;
    const started = await call('editor', 'POST', 'upload', 'parts.bin', {
      volume,
      headers: { 'upload-length': '10' },
    });
    expect(started.status).toBe(201);
    const { id } = (await started.json()) as { id: string };
    const patch = (offset: number, body: string) =>
      call('editor', 'PATCH', 'upload', '', {
        volume,
        query: { id },
        body,
        headers: { 'upload-offset': String(offset) },
      });
    expect((await patch(0, 'hello')).headers.get('upload-offset')).toBe('5');
    const offset = await call('editor', 'GET', 'upload', '', { volume, query: { id } });
    expect(await offset.json()).toMatchObject({ offset: 5, length: 10 });
    expect((await patch(5, 'world')).status).toBe(201);
    expect(
      (await call('editor', 'POST', 'move', 'parts.bin', { volume, query: { to: 'greeting.txt' } })).status,
    ).toBe(200);
    expect(await readFile(join(base, `${workspaceId}--${volume}`, 'greeting.txt'), 'utf8')).toBe(
      'helloworld',
    );
    expect((await call('editor', 'DELETE', 'file', 'greeting.txt', { volume })).status).toBe(200);
    await expect(readFile(join(base, `${workspaceId}--${volume}`, 'greeting.txt'))).rejects.toThrow();
  });
});

describe('file-browser writes while the disk moves to another node', () => {
  // The disk's home as the scheduler would record it: the move's switch changes it.
  let home = 'node-a';
  const moving = () => ({
    ...options,
    gateway: {
      secret: SECRET,
      url: async () => (home === 'node-a' ? (options.gateway?.url as string) : 'http://127.0.0.1:9'),
    },
  });
  const send = (method: string, op: string, path: string, init: Parameters<typeof call>[4] = {}) => {
    const volume = init.volume ?? namedVolumeId;
    const headers: Record<string, string> = {
      cookie: users.editor.cookie,
      'x-kiln-csrf': users.editor.csrf,
      ...init.headers,
    };
    const request = new Request(
      `http://kiln.test/api/workspaces/${workspaceId}/volumes/${volume}/${op}?${new URLSearchParams({ path, ...init.query })}`,
      { method, headers, body: init.body },
    );
    return proxyVolumeRequest(request, { workspaceId, volume, op }, moving());
  };
  /** A PUT whose body stays open until `finish()`: `forwarding` resolves once the node is receiving it. */
  function slowPut(path: string) {
    let forwarded!: () => void;
    const forwarding = new Promise<void>((resolve) => {
      forwarded = resolve;
    });
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => {
      finish = resolve;
    });
    let pulls = 0;
    const body = new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          pulls += 1;
          if (pulls === 1) {
            controller.enqueue(new TextEncoder().encode('first half, '));
            forwarded();
            return;
          }
          await finished;
          controller.enqueue(new TextEncoder().encode('second half'));
          controller.close();
        },
        // Pulled only when read: by the proxy's forward, after its checks.
      },
      { highWaterMark: 0 },
    );
    const request = new Request(
      `http://kiln.test/api/workspaces/${workspaceId}/volumes/${namedVolumeId}/file?path=${path}`,
      {
        method: 'PUT',
        headers: { cookie: users.editor.cookie, 'x-kiln-csrf': users.editor.csrf },
        body,
        duplex: 'half',
      } as RequestInit,
    );
    const answered = proxyVolumeRequest(
      request,
      { workspaceId, volume: namedVolumeId, op: 'file' },
      moving(),
    );
    return { forwarding, finish, answered };
  }
  const claimOptions = { label: 'The volume datasets', toNodeId: 'node-b' };
  const disk = () => ({ workspaceId, volume: namedVolumeId });

  it('refuses uploads, renames, deletes and new folders while a move holds the disk; reads go on', async () => {
    home = 'node-a';
    expect((await send('PUT', 'file', 'stay.txt', { body: 'before' })).status).toBe(201);
    const claim = await claimDiskMove(database.db, disk(), claimOptions);
    try {
      const writes = [
        await send('PUT', 'file', 'new.txt', { body: 'x' }),
        await send('POST', 'move', 'stay.txt', { query: { to: 'renamed.txt' } }),
        await send('DELETE', 'file', 'stay.txt'),
        await send('POST', 'folder', 'made'),
        await send('POST', 'upload', 'big.bin', { headers: { 'upload-length': '3' } }),
      ];
      expect(writes.map((answer) => answer.status)).toEqual([409, 409, 409, 409, 409]);
      for (const answer of writes)
        expect(await answer.json()).toEqual({
          message: 'This disk is being moved to another node; try again in a moment.',
        });
      expect((await send('GET', 'tree', '')).status).toBe(200);
      expect(await (await send('GET', 'file', 'stay.txt')).text()).toBe('before');
    } finally {
      await claim.release();
    }
    // Once the move is over, writes go through again.
    expect((await send('POST', 'folder', 'made')).status).toBe(201);
  });

  it('a write that ends after the switch is refused, not kept on the old copy silently', async () => {
    home = 'node-a';
    const put = slowPut('late.txt');
    await put.forwarding;
    // The move starts after the write did, checks, and switches while the write is still arriving.
    const claim = await claimDiskMove(database.db, disk(), claimOptions);
    const [clock] = await database.db.$queryRaw<{ now: Date }[]>`SELECT clock_timestamp() AS now`;
    const settled = await database.db.$transaction((tx) => settleClaim(tx, claim, clock?.now as Date));
    expect(settled).toBeNull();
    home = 'node-b';
    put.finish();
    const answered = await put.answered;
    expect(answered.status).toBe(409);
    expect(await answered.json()).toEqual({
      message:
        'This disk was moved to another node while your change was being made, so the change did not land on it; try again.',
    });
    await claim.release();
  });

  it('a write that ends during the final check keeps the original in charge: the move does not switch', async () => {
    home = 'node-a';
    const put = slowPut('during.txt');
    await put.forwarding;
    const claim = await claimDiskMove(database.db, disk(), claimOptions);
    const [clock] = await database.db.$queryRaw<{ now: Date }[]>`SELECT clock_timestamp() AS now`;
    put.finish();
    expect((await put.answered).status).toBe(201);
    expect(await readFile(join(base, `${workspaceId}--${namedVolumeId}`, 'during.txt'), 'utf8')).toBe(
      'first half, second half',
    );
    const settled = await database.db.$transaction((tx) => settleClaim(tx, claim, clock?.now as Date));
    expect(settled).toBe(
      'a file was changed in the file browser while it was being checked; nothing was moved. Try again.',
    );
    await claim.release();
    expect(await database.db.diskMove.count()).toBe(0);
  });
});
