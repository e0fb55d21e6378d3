import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, type TestDatabase } from '@kiln/db/testing';
import { createScheduler, type Scheduler } from '@kiln/scheduler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createImageBuilder } from '../../../kernel-gateway/src/images/image-builder.ts';
import { startInProcessNode } from './gateway-test-nodes.ts';
import { createWebImages } from './images.ts';

// Two in-process gateway nodes (on the sandbox stand-in: where builds go, not kernels, is tested here),
// each with its own image builder and disk, joined to the scheduler over Postgres: a workspace's image is
// built on the node where the scheduler runs its kernels (the node holding its /workspace), not on
// whichever gateway is configured or registered first. Real builds run in image-build.int.test.ts; here
// a build a node already has on disk (cached by content key) is ready at once, and each node counts the
// builds it was asked for.
const SECRET = `image-placement-${randomBytes(12).toString('hex')}`;
const root = mkdtempSync(join(tmpdir(), 'kiln-image-placement-'));
let database: TestDatabase;
let scheduler: Scheduler;
const cleanups: (() => Promise<void>)[] = [];
const nodes = new Map<
  string,
  {
    url: string;
    asked: string[];
    put: (debian: string[]) => string;
    has: (key: string) => boolean;
    stop(): Promise<void>;
  }
>();

async function startNode(id: string, cpu: number): Promise<void> {
  const imagesDir = join(root, id, 'images');
  const builder = createImageBuilder({ baseImageDir: join(root, 'base'), imagesDir });
  const asked: string[] = [];
  const counted = {
    ...builder,
    build: (spec: Parameters<typeof builder.build>[0]) => {
      asked.push(builder.keyOf(spec));
      return builder.build(spec);
    },
  };
  const { url, stop } = await startInProcessNode({
    id,
    db: database.db,
    secret: SECRET,
    cpu,
    heartbeatMs: 200,
    images: counted,
  });
  cleanups.push(stop);
  nodes.set(id, {
    url,
    asked,
    put: (debian) => {
      const key = builder.keyOf({ debian, python: [] });
      mkdirSync(join(imagesDir, key, 'usr/bin'), { recursive: true });
      return key;
    },
    has: (key) => existsSync(join(imagesDir, key)),
    stop,
  });
}

function node(id: string) {
  const found = nodes.get(id);
  if (!found) throw new Error(`no node ${id}`);
  return found;
}

beforeAll(async () => {
  database = await createTestDatabase({ max: 6 });
  scheduler = createScheduler({ db: database.db, heartbeatTimeoutMs: 1500 });
  // node-a registers first and is small; node-b is large.
  await startNode('node-a', 1);
  await startNode('node-b', 4);
}, 60_000);

afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await scheduler?.close();
  await database?.drop();
  await rm(root, { recursive: true, force: true });
});

describe('workspace image builds on several nodes', () => {
  it("build on the node that runs the workspace's kernels, and say so when that node is lost", async () => {
    const suffix = randomBytes(4).toString('hex');
    const user = await database.db.user.create({ data: { email: `u-${suffix}@example.com`, name: 'U' } });
    const workspace = async (tag: string) =>
      (
        await database.db.workspace.create({
          data: { name: `ws ${suffix}${tag}`, slug: `ws-${suffix}${tag}`, plan: 'TEAM' },
        })
      ).id;
    const [big, fresh] = [await workspace('-big'), await workspace('-fresh')];
    const actor = { userId: user.id, ip: '203.0.113.9' };
    // The configured gateway (KERNEL_GATEWAY_URL) is node-a, as on an install that grew a second node.
    const images = createWebImages(database.db, { url: node('node-a').url, secret: SECRET }, scheduler);

    // A workspace whose 2-CPU kernel only node-b can hold: its /workspace, and so all its kernels, live on b.
    const kernel = await scheduler.request({
      workspaceId: big,
      kind: 'kernel',
      ownerId: randomUUID(),
      resources: { cpu: 2, memoryMiB: 1024 },
      mountsWorkspace: true,
    });
    expect(kernel.node?.id).toBe('node-b');
    await scheduler.stop(kernel.id);
    const tools = node('node-b').put(['hello']);
    const built = await images.create(big, actor, { name: 'tools', debian: ['hello'] });
    expect(built).toMatchObject({ state: 'ready', usable: true });
    expect(node('node-b').asked).toEqual([tools]);
    expect(node('node-a').asked).toEqual([]);
    expect(node('node-a').has(tools)).toBe(false);

    // A workspace that has run nothing yet: its build goes to a node, and its kernels follow it there.
    const cow = node('node-a').put(['cowsay']);
    expect(await images.create(fresh, actor, { name: 'cow', debian: ['cowsay'] })).toMatchObject({
      state: 'ready',
    });
    expect(node('node-a').asked).toEqual([cow]);
    const next = await scheduler.request({
      workspaceId: fresh,
      kind: 'kernel',
      ownerId: randomUUID(),
      resources: { cpu: 1, memoryMiB: 1024 },
      mountsWorkspace: true,
    });
    expect(next.node?.id).toBe('node-a');
    await scheduler.stop(next.id);

    // node-b stops answering: a rebuild for the workspace living there is refused with the reason, and the
    // image built before stays what its kernels get.
    await node('node-b').stop();
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect((await scheduler.detectLostNodes()).nodes).toEqual(['node-b']);
    const refused = await images.rebuild(big, built.id, actor);
    expect(refused.error).toMatch(
      /^The build could not start: This workspace's \/workspace folder lives on node node-b, which is offline/,
    );
    expect(node('node-a').asked).toEqual([cow]);
    expect(await images.get(big, built.id)).toMatchObject({ usable: true });
  }, 60_000);
});
