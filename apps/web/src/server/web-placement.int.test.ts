import { randomBytes, randomUUID } from 'node:crypto';
import { createDb, type Db } from '@kiln/db';
import { createTestDatabase, type TestDatabase } from '@kiln/db/testing';
import type { Gateway } from '@kiln/kernel-gateway';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInProcessNode } from './gateway-test-nodes.ts';
import { createScheduledGateways } from './scheduled-gateway.ts';
import { volumeNodeUrl } from './volume-node.ts';
import { createWebScheduler, type WebScheduler } from './web-scheduler.ts';

// Two web processes' scheduling stacks (each its own scheduler, housekeeping and connection pool, as in
// two `server.ts` processes) start kernels at the same moment through the web path onto two gateway nodes
// over one Postgres: no GPU is handed out twice and no node is overcommitted. The nodes are in-process
// gateways on the sandbox stand-in: placement, not kernels, is what this file tests.
const SECRET = `placement-${randomBytes(12).toString('hex')}`;
const NODE = { cpu: 3, memoryMiB: 6144 };
let database: TestDatabase;
const cleanups: (() => Promise<void>)[] = [];
const gateways: Gateway[] = [];
const urls: string[] = [];

async function startNode(id: string): Promise<void> {
  const node = await startInProcessNode({
    id,
    db: database.db,
    secret: SECRET,
    ...NODE,
    gpus: [{ type: 'T4', count: 2 }],
    heartbeatMs: 1000,
  });
  gateways.push(node.gateway);
  urls.push(node.url);
  cleanups.push(node.stop);
}

/** One web process's placement stack, on a connection pool of its own. */
function webProcess(): { db: Db; web: WebScheduler; gateways: ReturnType<typeof createScheduledGateways> } {
  const db = createDb(database.url, { max: 4 });
  const web = createWebScheduler(
    db,
    {
      queueTimeoutMs: 3000,
      heartbeatTimeoutMs: 30_000,
      lostGiveUpMs: 900_000,
      maxCpuPerContainer: 64,
      maxMemoryMiBPerContainer: 256 * 1024,
      enterprise: { maxContainers: null, gpuConcurrency: null },
    },
    () => undefined,
  );
  cleanups.push(async () => {
    await web.close();
    await db.$disconnect();
  });
  return {
    db,
    web,
    gateways: createScheduledGateways({
      scheduler: web.scheduler,
      secret: SECRET,
      defaults: { cpu: 1, memoryMiB: 1024 },
    }),
  };
}

beforeAll(async () => {
  database = await createTestDatabase({ max: 8 });
  await startNode('node-a');
  await startNode('node-b');
}, 120_000);

afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await database?.drop();
}, 120_000);

describe('named volumes through the web path', () => {
  it('start every kernel that mounts a volume on the node holding it, waiting there when it is full', async () => {
    const suffix = randomBytes(4).toString('hex');
    const { id: workspaceId } = await database.db.workspace.create({
      data: { name: `ws ${suffix}`, slug: `ws-${suffix}`, plan: 'TEAM' },
    });
    const volume = await database.db.volume.create({ data: { workspaceId, name: 'data' } });
    const volumes = [{ id: volume.id, name: 'data', target: '/vol/data', readOnly: false, quotaMiB: 1024 }];
    const [one, two] = [webProcess(), webProcess()];
    const start = (web: typeof one, cpu: number, mounts = volumes, workspace = workspaceId) =>
      web
        .gateways(workspace, randomUUID())
        .startKernel({ resources: { cpu, memoryMiB: 1024 }, volumes: mounts });
    const runsOn = (id: string) =>
      gateways.findIndex((gateway) => gateway.kernels.all().some((kernel) => kernel.id === id));

    // node-a is full (another workspace's kernel), so the volume's first kernel lands on node-b, and the
    // volume lives there from now.
    const { id: neighbour } = await database.db.workspace.create({
      data: { name: `ws ${suffix}-n`, slug: `ws-${suffix}-n`, plan: 'TEAM' },
    });
    const filler = await start(one, NODE.cpu, [], neighbour);
    expect(runsOn(filler.id)).toBe(0);
    const first = await start(one, 2);
    expect(runsOn(first.id)).toBe(1);
    await one.gateways(neighbour, 'x').shutdownKernel(filler.id);
    // node-a is empty now, but the second web process's kernel for the volume waits for node-b.
    const second = start(two, 2);
    let queued = null;
    for (let n = 0; n < 50 && !queued; n++) {
      queued = await database.db.container.findFirst({ where: { workspaceId, state: 'queued' } });
      if (!queued) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(queued).toMatchObject({ pinnedNodeId: 'node-b', volumeIds: [volume.id] });
    expect((await two.web.scheduler.get(queued?.id as string)).queue?.reason).toMatch(
      /on node node-b \(it holds its volumes and \/workspace\)/,
    );
    await one.gateways(workspaceId, 'x').shutdownKernel(first.id);
    const placed = await second;
    expect(runsOn(placed.id)).toBe(1);
    expect(placed.granted?.node).toBe('node-b');
    await two.gateways(workspaceId, 'x').shutdownKernel(placed.id);
  }, 60_000);
});

describe("a workspace's /workspace folder through the web path", () => {
  it('starts all of its kernels, from any web process, on the node whose disk the file browser shows', async () => {
    const suffix = randomBytes(4).toString('hex');
    const made = async (tag: string) =>
      (
        await database.db.workspace.create({
          data: { name: `ws ${suffix}${tag}`, slug: `ws-${suffix}${tag}`, plan: 'TEAM' },
        })
      ).id;
    const [workspaceId, neighbour] = [await made(''), await made('-n')];
    const [one, two] = [webProcess(), webProcess()];
    const start = (web: typeof one, cpu: number, workspace = workspaceId) =>
      web.gateways(workspace, randomUUID()).startKernel({ resources: { cpu, memoryMiB: 1024 } });
    const runsOn = (id: string) =>
      gateways.findIndex((gateway) => gateway.kernels.all().some((kernel) => kernel.id === id));

    // The workspace's first kernel picks its node; its /workspace lives there from now on, and the file
    // browser (any web process) reads and writes that node's disk.
    const first = await start(one, 1);
    const home = runsOn(first.id);
    expect(home).toBeGreaterThanOrEqual(0);
    for (const web of [one, two])
      expect(await volumeNodeUrl(web.web.scheduler, workspaceId, 'workspace', null)).toBe(urls[home]);
    // Another workspace fills that node up; the other node is empty.
    const filler = await start(one, NODE.cpu - 1, neighbour);
    expect(runsOn(filler.id)).toBe(home);
    // The second web process's kernel for the workspace waits for the node with its files rather than
    // starting at once on the empty node, where /workspace would be another folder.
    const second = start(two, 1);
    let queued = null;
    for (let n = 0; n < 50 && !queued; n++) {
      queued = await database.db.container.findFirst({ where: { workspaceId, state: 'queued' } });
      if (!queued) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const homeId = home === 0 ? 'node-a' : 'node-b';
    expect(queued).toMatchObject({ pinnedNodeId: homeId, mountsWorkspace: true });
    expect((await two.web.scheduler.get(queued?.id as string)).queue?.reason).toMatch(
      new RegExp(`on node ${homeId} \\(it holds /workspace\\)`),
    );
    await one.gateways(workspaceId, 'x').shutdownKernel(first.id);
    const placed = await second;
    expect(runsOn(placed.id)).toBe(home);
    expect(placed.granted?.node).toBe(homeId);
    await two.gateways(workspaceId, 'x').shutdownKernel(placed.id);
    await one.gateways(neighbour, 'x').shutdownKernel(filler.id);
  }, 60_000);
});

describe('two web processes placing kernels at once', () => {
  it('never hand out one GPU twice or overcommit a node; what did not fit waits and times out with a reason', async () => {
    const workspaces: string[] = [];
    for (let n = 0; n < 4; n++) {
      const suffix = randomBytes(4).toString('hex');
      const row = await database.db.workspace.create({
        data: { name: `ws ${suffix}`, slug: `ws-${suffix}`, plan: 'TEAM' },
      });
      workspaces.push(row.id);
    }
    const [one, two] = [webProcess(), webProcess()];
    // 12 one-GPU kernels for 4 T4s, fired together from both processes across four workspaces.
    const starts = Array.from({ length: 12 }, (_, n) => {
      const web = n % 2 === 0 ? one : two;
      const workspaceId = workspaces[n % workspaces.length] as string;
      return web
        .gateways(workspaceId, randomUUID())
        .startKernel({ resources: { cpu: 1, memoryMiB: 2048, gpu: 'T4' } });
    });
    const results = await Promise.allSettled(starts);
    const started = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    const refused = results.flatMap((result) =>
      result.status === 'rejected' ? [result.reason as Error] : [],
    );
    expect(started).toHaveLength(4);
    expect(refused).toHaveLength(8);
    for (const error of refused) expect(error.message).toMatch(/waited|queue|T4/i);

    // What the database holds: four containers, four distinct (node, GPU) pairs, within each node's size.
    const live = await database.db.container.findMany({ where: { state: { in: ['starting', 'running'] } } });
    expect(live.map((container) => container.id).sort()).toEqual(started.map((kernel) => kernel.id).sort());
    const pairs = live.flatMap((container) =>
      container.gpuIndices.map((index) => `${container.nodeId}/${index}`),
    );
    expect(new Set(pairs).size).toBe(4);
    for (const nodeId of ['node-a', 'node-b']) {
      const here = live.filter((container) => container.nodeId === nodeId);
      expect(here.reduce((sum, container) => sum + container.cpu, 0)).toBeLessThanOrEqual(NODE.cpu);
      expect(here.reduce((sum, container) => sum + container.memoryMiB, 0)).toBeLessThanOrEqual(
        NODE.memoryMiB,
      );
    }
    // What the gateways run: exactly those kernels, each on the node it was placed on, with its own GPU.
    const running = gateways.flatMap((gateway, index) =>
      gateway.kernels.all().map((kernel) => ({ id: kernel.id, node: index === 0 ? 'node-a' : 'node-b' })),
    );
    expect(running.map((kernel) => kernel.id).sort()).toEqual(started.map((kernel) => kernel.id).sort());
    for (const kernel of running)
      expect(live.find((container) => container.id === kernel.id)?.nodeId).toBe(kernel.node);
    const held = await database.db.nodeGpu.findMany({ where: { containerId: { not: null } } });
    expect(held.map((gpu) => `${gpu.nodeId}/${gpu.index}`).sort()).toEqual([...pairs].sort());

    // Memory is the limit now: 2 GiB is left on each node, so of six 2 GiB CPU kernels exactly two start.
    const cpuOnly = await Promise.allSettled(
      Array.from({ length: 6 }, (_, n) =>
        (n % 2 === 0 ? one : two)
          .gateways(workspaces[n % workspaces.length] as string, randomUUID())
          .startKernel({
            resources: { cpu: 0.5, memoryMiB: 2048 },
          }),
      ),
    );
    expect(cpuOnly.filter((result) => result.status === 'fulfilled')).toHaveLength(2);
    const after = await database.db.container.findMany({ where: { state: { in: ['starting', 'running'] } } });
    for (const nodeId of ['node-a', 'node-b']) {
      const here = after.filter((container) => container.nodeId === nodeId);
      expect(here.reduce((sum, container) => sum + container.memoryMiB, 0)).toBe(NODE.memoryMiB);
      expect(here.reduce((sum, container) => sum + container.cpu, 0)).toBeLessThanOrEqual(NODE.cpu);
    }
  }, 120_000);
});
