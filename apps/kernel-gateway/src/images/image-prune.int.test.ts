import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ImageSpec } from '@kiln/images';
import { afterAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startGateway } from '../../test/harness.ts';
import { createImageBuilder } from './image-builder.ts';

// Pruning built images through the gateway's route: what workspace images no longer name goes, with
// its metadata and kernel snapshots, except the build a live kernel runs on. Builds are not run here
// (image-build.int.test.ts does); the images are laid out on disk as a finished build leaves them.
const root = mkdtempSync(join(tmpdir(), 'kiln-prune-'));
afterAll(() => rm(root, { recursive: true, force: true }));

const specs: Record<'old' | 'current' | 'other', ImageSpec> = {
  old: { debian: ['hello'], python: [] },
  current: { debian: ['hello', 'jq'], python: [] },
  other: { debian: ['cowsay'], python: [] },
};

describe('image pruning', () => {
  it('deletes builds nothing names, keeps those a kernel runs on until it stops, and needs the admin token', async () => {
    const imagesDir = join(root, 'images');
    const snapshots = join(root, 'snapshots');
    const builder = createImageBuilder({
      baseImageDir: join(root, 'base'),
      imagesDir,
      imageSnapshotsDir: snapshots,
      pruneGraceMs: 0,
    });
    const key = (name: keyof typeof specs) => builder.keyOf(specs[name]);
    for (const name of Object.keys(specs) as (keyof typeof specs)[]) {
      mkdirSync(join(imagesDir, key(name), 'usr/bin'), { recursive: true });
      writeFileSync(join(imagesDir, key(name), 'usr/bin/tool'), name);
      writeFileSync(join(imagesDir, `${key(name)}.json`), JSON.stringify({ spec: specs[name] }));
      mkdirSync(join(snapshots, key(name), 'abc'), { recursive: true });
    }
    expect((await builder.get(key('old'))).state).toBe('ready');
    const { call, tokenA } = await startGateway({ images: builder });

    // A kernel runs on the old build (the image was edited since; the kernel keeps what it started on).
    const kernel = await call('POST', '/api/kernels', tokenA, { image: specs.old });
    expect(kernel.status).toBe(201);

    const denied = await call('POST', '/kiln/images/prune', tokenA, { keep: [] });
    expect(denied.status).toBe(403);
    expect((await call('POST', '/kiln/images/prune', ADMIN_TOKEN, { keep: ['../etc'] })).status).toBe(400);

    const first = await call('POST', '/kiln/images/prune', ADMIN_TOKEN, { keep: [key('current')] });
    expect(first).toMatchObject({ status: 200, json: { removed: [key('other')], inUse: [key('old')] } });
    expect(existsSync(join(imagesDir, key('other')))).toBe(false);
    expect(existsSync(join(imagesDir, `${key('other')}.json`))).toBe(false);
    expect(existsSync(join(snapshots, key('other')))).toBe(false);
    await expect(builder.get(key('other'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(existsSync(join(imagesDir, key('old'), 'usr/bin/tool'))).toBe(true);
    expect(existsSync(join(imagesDir, key('current'), 'usr/bin/tool'))).toBe(true);

    // While the kernel runs, what was kept for it stays; once it stops (the gateway then asks for this,
    // a little later), the build goes with its snapshots, without waiting for another image change.
    expect(await builder.pruneDeferred([specs.old])).toEqual({ removed: [], inUse: [key('old')] });
    expect((await call('DELETE', `/api/kernels/${kernel.json.id}`, tokenA)).status).toBe(204);
    expect(await builder.pruneDeferred([])).toEqual({ removed: [key('old')], inUse: [] });
    expect(existsSync(join(imagesDir, key('old')))).toBe(false);
    expect(existsSync(join(snapshots, key('old')))).toBe(false);
    expect((await builder.get(key('current'))).state).toBe('ready');
  });

  it('leaves alone a build asked for within the grace period', async () => {
    const imagesDir = join(root, 'graced');
    const builder = createImageBuilder({ baseImageDir: join(root, 'base'), imagesDir });
    const built = builder.keyOf(specs.other);
    mkdirSync(join(imagesDir, built), { recursive: true });
    // Asked for just now (a kernel about to start on it, or an image just defined with it).
    expect((await builder.build(specs.other)).state).toBe('ready');
    expect(await builder.prune([], [])).toEqual({ removed: [], inUse: [] });
    expect(existsSync(join(imagesDir, built))).toBe(true);
  });

  it('never reports ready, nor starts a kernel on, a build a running prune deletes: it builds it again', async () => {
    const imagesDir = join(root, 'racing');
    const builder = createImageBuilder({ baseImageDir: join(root, 'base'), imagesDir });
    const reused = builder.keyOf(specs.old);
    // Left by an image deleted long ago (nothing asked for it in this process), so a prune takes it.
    // Enough files that deleting them takes a while, as a real image's tens of thousands do.
    for (let i = 0; i < 100; i++) {
      mkdirSync(join(imagesDir, reused, `d${i}`), { recursive: true });
      for (let j = 0; j < 30; j++) writeFileSync(join(imagesDir, reused, `d${i}`, `f${j}`), 'x');
    }
    writeFileSync(join(imagesDir, `${reused}.json`), JSON.stringify({ spec: specs.old }));
    // A new image with the old one's packages is saved (and a kernel started on it) while a prune whose
    // keep list was read just before it runs.
    const pruning = builder.prune([], []);
    // The prune has looked at the key and is deleting the build when the requests arrive.
    await new Promise((resolve) => setImmediate(resolve));
    expect(existsSync(join(imagesDir, reused))).toBe(true);
    const asked = builder.build(specs.old);
    const starting = builder.ensure(specs.old).then(
      (dir) => (existsSync(join(dir, 'd0')) ? 'started on the build' : 'started on a deleted build'),
      (error: Error) => error.message,
    );
    expect(await pruning).toEqual({ removed: [reused], inUse: [] });
    // A new build began instead of "ready" for files being deleted (here it fails: the base is a stand-in).
    expect((await asked).state).toBe('queued');
    expect(await starting).toMatch(/^The kernel's image failed to build/);
    expect(existsSync(join(imagesDir, reused))).toBe(false);
  });
});
