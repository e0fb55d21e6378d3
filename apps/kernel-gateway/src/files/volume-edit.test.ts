import { mkdir, mkdtemp, readdir, readFile, symlink, utimes, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { eventually, startGateway } from '../../test/harness.ts';
import { createUploads } from './volume-upload.ts';

/** A gateway whose workspaces each get a fresh volume directory, plus a folder outside them all. */
async function setup() {
  const base = await mkdtemp(join(tmpdir(), 'kiln-volume-edit-'));
  const outside = join(base, 'outside');
  await mkdir(join(outside, 'deep'), { recursive: true });
  await writeFile(join(outside, 'secret.txt'), 'top secret');
  await writeFile(join(outside, 'deep', 'keep.txt'), 'keep');
  const gw = await startGateway({
    volumes: async (workspaceId, volume) => {
      if (volume !== 'workspace') return null;
      const root = join(base, 'volumes', workspaceId);
      await mkdir(root, { recursive: true });
      return root;
    },
  });
  const rootA = join(base, 'volumes', gw.workspaceA);
  await mkdir(rootA, { recursive: true });
  const send = (
    method: string,
    route: string,
    query: Record<string, string>,
    init: { token?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
  ) =>
    fetch(`${gw.url}/kiln/volumes/workspace/${route}?${new URLSearchParams(query)}`, {
      method,
      headers: { authorization: `token ${init.token ?? gw.tokenA}`, ...init.headers },
      body: init.body,
    });
  return { ...gw, outside, rootA, send };
}

describe('rename and delete in a volume', () => {
  it('renames files and folders inside the volume and refuses ways out', async () => {
    const { send, rootA, outside } = await setup();
    await mkdir(join(rootA, 'data'));
    await writeFile(join(rootA, 'data', 'a.csv'), 'a');
    await writeFile(join(rootA, 'b.csv'), 'b');
    await symlink(outside, join(rootA, 'out'));

    expect((await send('POST', 'move', { path: 'data/a.csv', to: 'data/renamed.csv' })).status).toBe(200);
    expect((await send('POST', 'move', { path: 'data', to: 'archive' })).status).toBe(200);
    expect(await readFile(join(rootA, 'archive', 'renamed.csv'), 'utf8')).toBe('a');
    // The target exists: nothing is overwritten.
    expect((await send('POST', 'move', { path: 'b.csv', to: 'archive/renamed.csv' })).status).toBe(409);
    expect((await send('POST', 'move', { path: 'b.csv', to: '../b.csv' })).status).toBe(400);
    expect((await send('POST', 'move', { path: 'archive', to: 'archive/inner' })).status).toBe(400);
    // Moving into or out of a linked folder goes through a link: refused.
    expect((await send('POST', 'move', { path: 'b.csv', to: 'out/b.csv' })).status).toBe(403);
    expect((await send('POST', 'move', { path: 'out/secret.txt', to: 'stolen.txt' })).status).toBe(403);
    expect(await readdir(outside)).toEqual(['deep', 'secret.txt']);
    expect(await readFile(join(rootA, 'b.csv'), 'utf8')).toBe('b');
  });

  it('deletes files and whole folders without following links inside them', async () => {
    const { send, rootA, outside } = await setup();
    await mkdir(join(rootA, 'tree', 'sub'), { recursive: true });
    await writeFile(join(rootA, 'tree', 'sub', 'x.txt'), 'x');
    // Links a kernel planted inside the folder being deleted, pointing at a folder and a file outside.
    await symlink(outside, join(rootA, 'tree', 'sub', 'to-outside'));
    await symlink(join(outside, 'secret.txt'), join(rootA, 'tree', 'secret-link'));
    await symlink(join(outside, 'deep'), join(rootA, 'top-link'));

    expect((await send('DELETE', 'file', { path: 'tree' })).status).toBe(200);
    // Deleting a link removes the link, not what it points at.
    expect((await send('DELETE', 'file', { path: 'top-link' })).status).toBe(200);
    expect(await readdir(rootA)).toEqual([]);
    expect(await readFile(join(outside, 'secret.txt'), 'utf8')).toBe('top secret');
    expect(await readFile(join(outside, 'deep', 'keep.txt'), 'utf8')).toBe('keep');
    expect((await send('DELETE', 'file', { path: '' })).status).toBe(400);
    expect((await send('DELETE', 'file', { path: '../outside' })).status).toBe(400);
    expect((await send('DELETE', 'file', { path: 'missing' })).status).toBe(404);
  });
});

/** Sends `head` of a PATCH body and then breaks the connection, as a dropped network would. */
function interruptedPatch(url: string, token: string, offset: number, head: Buffer, announced: number) {
  return new Promise<void>((resolve) => {
    const request = httpRequest(url, {
      method: 'PATCH',
      headers: {
        authorization: `token ${token}`,
        'upload-offset': String(offset),
        'content-length': String(announced),
      },
    });
    request.on('error', () => resolve());
    request.write(head, () => setTimeout(() => request.destroy(), 200));
    request.on('close', () => resolve());
  });
}

describe('resumable uploads', () => {
  it('resumes after a broken connection from the offset the server has, then places the file', async () => {
    const { send, rootA, url, tokenA, tokenB } = await setup();
    const body = Buffer.alloc(3 * 1024 * 1024);
    for (let i = 0; i < body.length; i++) body[i] = (i * 7) % 251;
    const started = await send(
      'POST',
      'upload',
      { path: 'big/model.bin' },
      {
        headers: { 'upload-length': String(body.length) },
      },
    );
    // The folder does not exist yet.
    expect(started.status).toBe(404);
    await mkdir(join(rootA, 'big'));
    const created = await send(
      'POST',
      'upload',
      { path: 'big/model.bin' },
      {
        headers: { 'upload-length': String(body.length) },
      },
    );
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };

    const first = await send(
      'PATCH',
      'upload',
      { id },
      {
        headers: { 'upload-offset': '0' },
        body: body.subarray(0, 1024 * 1024),
      },
    );
    expect(await first.json()).toMatchObject({ offset: 1024 * 1024, done: false });
    // The unfinished file is not listed, and the target does not exist yet.
    const listing = (await (await send('GET', 'tree', { path: 'big' })).json()) as { entries: unknown[] };
    expect(listing.entries).toEqual([]);

    await interruptedPatch(
      `${url}/kiln/volumes/workspace/upload?id=${id}`,
      tokenA,
      1024 * 1024,
      body.subarray(1024 * 1024, 1536 * 1024),
      2 * 1024 * 1024,
    );
    const offset = await eventually(async () => {
      const answer = (await (await send('GET', 'upload', { id })).json()) as { offset: number };
      return answer.offset > 1024 * 1024 ? answer.offset : 0;
    }, 20_000);
    expect(offset).toBeLessThanOrEqual(1536 * 1024);

    // A stale offset is refused with the real one; another workspace cannot see the upload.
    const stale = await send('PATCH', 'upload', { id }, { headers: { 'upload-offset': '0' }, body: 'x' });
    expect(stale.status).toBe(409);
    expect((await send('GET', 'upload', { id }, { token: tokenB })).status).toBe(404);

    const rest = await send(
      'PATCH',
      'upload',
      { id },
      {
        headers: { 'upload-offset': String(offset) },
        body: body.subarray(offset),
      },
    );
    expect(rest.status).toBe(201);
    expect(await rest.json()).toMatchObject({ done: true, offset: body.length });
    expect((await readFile(join(rootA, 'big', 'model.bin'))).equals(body)).toBe(true);
    expect(await readdir(join(rootA, 'big'))).toEqual(['model.bin']);
    expect((await send('GET', 'upload', { id })).status).toBe(404);
  });

  it('refuses uploads through links and more bytes than announced', async () => {
    const { send, outside, rootA } = await setup();
    await symlink(outside, join(rootA, 'out'));
    const through = await send(
      'POST',
      'upload',
      { path: 'out/evil.bin' },
      { headers: { 'upload-length': '3' } },
    );
    expect(through.status).toBe(403);
    const created = await send(
      'POST',
      'upload',
      { path: 'small.bin' },
      { headers: { 'upload-length': '3' } },
    );
    const { id } = (await created.json()) as { id: string };
    const tooMuch = await send(
      'PATCH',
      'upload',
      { id },
      { headers: { 'upload-offset': '0' }, body: 'abcdef' },
    );
    expect(tooMuch.status).toBe(400);
    expect(await readdir(outside)).toEqual(['deep', 'secret.txt']);
  });
});

describe('unfinished uploads of an earlier gateway process', () => {
  it('are deleted once idle past their expiry, when an upload starts in their folder', async () => {
    const root = await mkdtemp(join(tmpdir(), 'kiln-volume-orphans-'));
    const orphan = join(root, '.kiln-upload-0123456789abcdef0123456789abcdef');
    await writeFile(orphan, 'half of something');
    const old = new Date(Date.now() - 3600_000);
    await utimes(orphan, old, old);
    const uploads = createUploads({ maxBytes: 1024, expireMs: 60_000 });
    const started = await uploads.start('scope', root, 'fresh.bin', 4);
    expect((await readdir(root)).filter((name) => name.startsWith('.kiln-upload-')).sort()).toEqual([
      `.kiln-upload-${started.id}`,
      `.kiln-upload-${started.id}.json`,
    ]);
  });

  it('are continued by a restarted gateway when the client names the upload and its path', async () => {
    const root = await mkdtemp(join(tmpdir(), 'kiln-volume-restart-'));
    const before = createUploads({ maxBytes: 1024 });
    const { id } = await before.start('ws/vol', root, 'notes.txt', 10);
    await before.append('ws/vol', id, 0, Readable.from([Buffer.from('hello')]));
    // A new process knows nothing of the upload until the client comes back with its path.
    const after = createUploads({ maxBytes: 1024 });
    await expect(after.offset('ws/vol', id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(after.offset('ws/vol', id, { root, path: 'other.txt' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    expect(await after.offset('ws/vol', id, { root, path: 'notes.txt' })).toMatchObject({
      offset: 5,
      length: 10,
    });
    const done = await after.append('ws/vol', id, 5, Readable.from([Buffer.from('world')]), {
      root,
      path: 'notes.txt',
    });
    expect(done).toMatchObject({ done: true, offset: 10 });
    expect(await readFile(join(root, 'notes.txt'), 'utf8')).toBe('helloworld');
    expect(await readdir(root)).toEqual(['notes.txt']);
  });
});
