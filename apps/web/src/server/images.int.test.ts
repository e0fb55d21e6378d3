import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, type TestDatabase } from '@kiln/db/testing';
import { createGateway } from '@kiln/kernel-gateway';
import { createGatewayClient, workspaceToken } from '@kiln/kernel-protocol/client';
import { createScheduler } from '@kiln/scheduler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createImageBuilder } from '../../../kernel-gateway/src/images/image-builder.ts';
// The sandbox stand-in of the gateway's own tests: which builds kernels hold, not kernels, is tested here.
import { FakeDriver } from '../../../kernel-gateway/test/fake-driver.ts';
import { createWebImages } from './images.ts';

// Workspace images through the web app's store onto a real gateway and its image builder: edits and
// deletions are in the audit log, and builds nothing names any more leave the gateway's disk once no
// kernel runs on them. Builds themselves run in image-build.int.test.ts; here the gateway finds them
// already on disk (cached by content key), as it does for any spec built before.
const SECRET = `images-${randomBytes(12).toString('hex')}`;
const root = mkdtempSync(join(tmpdir(), 'kiln-web-images-'));
const imagesDir = join(root, 'images');
let database: TestDatabase;
let gateway: ReturnType<typeof createGateway>;
let url: string;
const builder = createImageBuilder({ baseImageDir: join(root, 'base'), imagesDir, pruneGraceMs: 0 });
const built = (debian: string[]) => {
  const key = builder.keyOf({ debian, python: [] });
  mkdirSync(join(imagesDir, key, 'usr/bin'), { recursive: true });
  return key;
};
const onDisk = (key: string) => existsSync(join(imagesDir, key));

beforeAll(async () => {
  database = await createTestDatabase({ max: 4 });
  gateway = createGateway({ driver: new FakeDriver(), token: SECRET, images: builder });
  ({ url } = await gateway.listen(0));
}, 60_000);

afterAll(async () => {
  await gateway?.close();
  await database?.drop();
  await rm(root, { recursive: true, force: true });
});

describe('workspace images in the web app', () => {
  it('audits every change and build, and deletes builds no image names once no kernel runs on them', async () => {
    const suffix = randomBytes(4).toString('hex');
    const user = await database.db.user.create({ data: { email: `u-${suffix}@example.com`, name: 'U' } });
    const { id: workspaceId } = await database.db.workspace.create({
      data: { name: `ws ${suffix}`, slug: `ws-${suffix}` },
    });
    const errors: unknown[] = [];
    const scheduler = createScheduler({ db: database.db });
    const images = createWebImages(database.db, { url, secret: SECRET }, scheduler, (e) => errors.push(e));
    const actor = { userId: user.id, ip: '203.0.113.9' };
    const [first, second, kept] = [built(['hello']), built(['hello', 'jq']), built(['cowsay'])];

    const tools = await images.create(workspaceId, actor, { name: 'tools', debian: ['hello'] });
    expect(tools).toMatchObject({ state: 'ready', usable: true });
    const other = await images.create(workspaceId, actor, { name: 'other', debian: ['cowsay'] });
    // A kernel runs on the first build.
    const kernels = createGatewayClient({ baseUrl: url, token: workspaceToken(SECRET, workspaceId) });
    const kernel = await kernels.startKernel({ image: { debian: ['hello'], python: [] } });

    // The edit builds (found on disk): the first build is replaced but stays while the kernel uses it.
    expect(await images.update(workspaceId, tools.id, { debian: ['hello', 'jq'] }, actor)).toMatchObject({
      state: 'ready',
      built: null,
    });
    expect([onDisk(first), onDisk(second), onDisk(kept)]).toEqual([true, true, true]);

    // The kernel is gone: deleting the image takes both its builds; the other image keeps its own.
    await kernels.shutdownKernel(kernel.id);
    await images.remove(workspaceId, tools.id, actor);
    expect([onDisk(first), onDisk(second), onDisk(kept)]).toEqual([false, false, true]);
    expect(await images.get(workspaceId, other.id)).toMatchObject({ state: 'ready', usable: true });
    expect(errors).toEqual([]);

    // A rebuild of what is built changes nothing but is recorded, as is who did what, from where.
    await images.rebuild(workspaceId, other.id, actor);
    const audit = await database.db.auditLog.findMany({
      where: { workspaceId },
      orderBy: { createdAt: 'asc' },
    });
    // Entries of one millisecond have no order between them: compare as sorted lists.
    const sorted = (pairs: string[][]) => pairs.map((pair) => pair.join(' ')).sort();
    expect(sorted(audit.map((entry) => [entry.action, entry.target ?? '']))).toEqual(
      sorted([
        ['image.created', 'tools'],
        ['image.built', 'tools'],
        ['image.created', 'other'],
        ['image.built', 'other'],
        ['image.updated', 'tools'],
        ['image.built', 'tools'],
        ['image.deleted', 'tools'],
        ['image.rebuilt', 'other'],
      ]),
    );
    const byUser = audit.filter((entry) => entry.action !== 'image.built');
    for (const entry of byUser) expect(entry).toMatchObject({ actorId: user.id, ip: '203.0.113.9' });
    expect(audit.find((entry) => entry.action === 'image.updated')?.metadata).toMatchObject({
      imageId: tools.id,
      before: { debian: ['hello'], python: [] },
      after: { debian: ['hello', 'jq'], python: [] },
    });
    const builds = audit.filter((entry) => entry.action === 'image.built').map((entry) => entry.metadata);
    expect(builds).toHaveLength(3);
    expect(builds).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ key: first, state: 'ready' }),
        expect.objectContaining({ key: kept, state: 'ready' }),
        expect.objectContaining({ key: second, state: 'ready' }),
      ]),
    );
    await scheduler.close();
  }, 60_000);
});
