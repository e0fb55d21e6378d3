import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startGateway } from '../../test/harness.ts';

interface Listing {
  entries: { name: string; path: string; kind: string; size: number }[];
}

/** A gateway whose workspaces each get a fresh volume directory, plus a secret outside them all. */
async function setup(options: { maxUploadBytes?: number } = {}) {
  const base = await mkdtemp(join(tmpdir(), 'kiln-volume-test-'));
  const outside = join(base, 'outside');
  await mkdir(outside);
  await writeFile(join(outside, 'secret.txt'), 'top secret');
  const roots = new Map<string, string>();
  const gw = await startGateway({
    ...options,
    volumes: async (workspaceId, volume) => {
      if (volume !== 'workspace') return null;
      const root = join(base, 'volumes', workspaceId);
      await mkdir(root, { recursive: true });
      roots.set(workspaceId, root);
      return root;
    },
  });
  const rootA = join(base, 'volumes', gw.workspaceA);
  await mkdir(rootA, { recursive: true });
  const request = (method: string, route: string, path: string, token = gw.tokenA, body?: string) =>
    fetch(`${gw.url}/kiln/volumes/workspace/${route}?path=${encodeURIComponent(path)}`, {
      method,
      headers: { authorization: `token ${token}` },
      body,
    });
  return { ...gw, base, outside, rootA, request };
}

describe('workspace volume files', () => {
  it('uploads, lists and downloads files and folders, each workspace in its own volume', async () => {
    const { request, rootA, tokenB } = await setup();
    expect((await request('POST', 'folder', 'data/raw')).status).toBe(201);
    const put = await request('PUT', 'file', 'data/raw/train.csv', undefined, 'a,b\n1,2\n');
    expect(put.status).toBe(201);
    expect(await put.json()).toEqual({ size: 8 });
    expect(await readFile(join(rootA, 'data/raw/train.csv'), 'utf8')).toBe('a,b\n1,2\n');
    // Replacing a file keeps one file with the new bytes and leaves no temporary behind.
    await request('PUT', 'file', 'data/raw/train.csv', undefined, 'a,b\n3,4\n');
    expect(await readdir(join(rootA, 'data/raw'))).toEqual(['train.csv']);

    const top = (await (await request('GET', 'tree', '')).json()) as Listing;
    expect(top.entries).toMatchObject([{ name: 'data', path: 'data', kind: 'directory' }]);
    const raw = (await (await request('GET', 'tree', '/data/raw/')).json()) as Listing;
    expect(raw.entries).toMatchObject([
      { name: 'train.csv', path: 'data/raw/train.csv', kind: 'file', size: 8 },
    ]);

    const download = await request('GET', 'file', 'data/raw/train.csv');
    expect(download.status).toBe(200);
    expect(download.headers.get('content-disposition')).toContain('filename="train.csv"');
    expect(await download.text()).toBe('a,b\n3,4\n');

    // Another workspace's token sees its own, empty volume.
    expect(((await (await request('GET', 'tree', '', tokenB)).json()) as Listing).entries).toEqual([]);
    expect((await request('GET', 'file', 'data/raw/train.csv', tokenB)).status).toBe(404);
    expect((await request('GET', 'tree', '', '')).status).toBe(401);
    expect((await request('GET', 'tree', '', 'wrong')).status).toBe(401);
  });

  it('refuses .., control characters and unknown volumes', async () => {
    const { request, url, tokenA } = await setup();
    for (const path of [
      '../outside/secret.txt',
      'a/../../outside',
      'a/./b',
      '..',
      'bad\\name',
      'nul\0byte',
      'x'.repeat(2000),
    ]) {
      const answer = await request('GET', 'file', path);
      expect(answer.status, path).toBe(400);
    }
    expect((await request('PUT', 'file', '../escape.txt', undefined, 'x')).status).toBe(400);
    const other = await fetch(`${url}/kiln/volumes/other/tree?path=`, {
      headers: { authorization: `token ${tokenA}` },
    });
    expect(other.status).toBe(404);
    // An absolute path is a path inside the volume, not the host's /etc.
    expect((await request('GET', 'file', '/etc/passwd')).status).toBe(404);
  });

  it('never follows symlinks out of the volume, and does not list or open special files', async () => {
    const { request, rootA, outside } = await setup();
    // What a kernel could plant in /workspace: links to outside, a FIFO.
    await symlink(outside, join(rootA, 'linked-dir'));
    await symlink(join(outside, 'secret.txt'), join(rootA, 'linked-file'));
    execFileSync('mkfifo', [join(rootA, 'pipe')]);
    await writeFile(join(rootA, 'plain.txt'), 'hello');

    const listing = (await (await request('GET', 'tree', '')).json()) as Listing;
    expect(listing.entries.map((e) => e.name)).toEqual(['plain.txt']);

    expect((await request('GET', 'file', 'linked-file')).status).toBe(403);
    expect((await request('GET', 'file', 'linked-dir/secret.txt')).status).toBe(403);
    const linkedListing = await request('GET', 'tree', 'linked-dir');
    expect(linkedListing.status).toBe(403);
    expect(await linkedListing.text()).not.toContain('secret');
    // A FIFO answers at once instead of blocking the gateway on a reader with no writer.
    expect((await request('GET', 'file', 'pipe')).status).toBe(403);

    // Writing through a link to outside is refused; writing over a link replaces the link itself.
    expect((await request('PUT', 'file', 'linked-dir/new.txt', undefined, 'x')).status).toBe(403);
    expect((await request('POST', 'folder', 'linked-dir/sub')).status).toBe(403);
    expect((await request('PUT', 'file', 'linked-file', undefined, 'overwritten')).status).toBe(201);
    expect(await readFile(join(outside, 'secret.txt'), 'utf8')).toBe('top secret');
    expect(await readFile(join(rootA, 'linked-file'), 'utf8')).toBe('overwritten');
    expect(await readdir(outside)).toEqual(['secret.txt']);
  });

  it('refuses oversized uploads and keeps the previous file', async () => {
    const { request, rootA } = await setup({ maxUploadBytes: 1024 });
    await request('PUT', 'file', 'model.bin', undefined, 'v1');
    const tooBig = await request('PUT', 'file', 'model.bin', undefined, 'x'.repeat(4096));
    expect(tooBig.status).toBe(413);
    expect(await readFile(join(rootA, 'model.bin'), 'utf8')).toBe('v1');
    expect(await readdir(rootA)).toEqual(['model.bin']);
  });
});
