import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, open, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isUuid } from '@kiln/core';
import { createTestDatabase, type TestDatabase } from '@kiln/db/testing';
import { createGateway } from '@kiln/kernel-gateway';
import { createScheduler, discoverGpus, type Scheduler } from '@kiln/scheduler';
import { createVolumes, pendingErasures } from '@kiln/volumes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSchedulerNode } from '../../../kernel-gateway/src/node/scheduler-node.ts';
import { createNamedVolumes, type NamedVolumes } from '../../../kernel-gateway/src/sandbox/named-volumes.ts';
// The sandbox stand-in of the gateway's own tests: volumes' disks (real ext4 images) are tested here.
import { FakeDriver } from '../../../kernel-gateway/test/fake-driver.ts';
import { createScheduledGateways } from './scheduled-gateway.ts';
import { createVolumeDisks } from './volume-disks.ts';

// Deleting volumes on two gateway nodes with real quota-bounded disks, over Postgres: a volume a running
// kernel mounts is refused with the kernel named, or deleted anyway with its disk erased once the kernel
// lets go; a volume whose node is lost is deleted at once and its disk erased when the node is back.
const SECRET = `volume-deletion-${randomBytes(12).toString('hex')}`;
let database: TestDatabase;
let scheduler: Scheduler;
let root: string;
const nodes = new Map<string, { volumes: NamedVolumes; stop(): Promise<void> }>();

async function startNode(id: string): Promise<void> {
  const stateDir = join(root, id);
  const volumes = createNamedVolumes({ stateDir, maxMiB: 64 });
  const own = createScheduler({ db: database.db });
  const node = createSchedulerNode({
    scheduler: own,
    identity: { cpu: 4, memoryMiB: 8192, gpus: await discoverGpus({ declared: [] }) },
    heartbeatMs: 200,
    log: () => undefined,
  });
  const gateway = createGateway({
    driver: new FakeDriver(),
    token: SECRET,
    admission: node.admission,
    volumes: async (workspaceId, volume, quotaMiB) =>
      isUuid(volume) && quotaMiB ? volumes.dir(workspaceId, volume, quotaMiB) : null,
    destroyVolume: (workspaceId, volume) => volumes.destroy(workspaceId, volume),
  });
  const { url } = await gateway.listen(0);
  await node.start({ id, url }, gateway.kernels);
  let stopped = false;
  nodes.set(id, {
    volumes,
    async stop() {
      if (stopped) return;
      stopped = true;
      await gateway.close();
      await node.close();
      await own.close();
      await volumes.close();
    },
  });
}

function node(id: string) {
  const found = nodes.get(id);
  if (!found) throw new Error(`no node ${id}`);
  return found;
}

/** The node's disk images of named volumes (one `<workspace>--<volume>.ext4` each). */
async function imagesOn(id: string): Promise<string[]> {
  const dir = join(root, id, 'named-volumes');
  return (await readdir(dir).catch(() => [])).filter((name) => name.endsWith('.ext4'));
}

beforeAll(async () => {
  database = await createTestDatabase({ max: 8 });
  root = await mkdtemp(join(tmpdir(), 'kiln-volume-deletion-'));
  scheduler = createScheduler({ db: database.db, heartbeatTimeoutMs: 1500 });
  await startNode('node-a');
  await startNode('node-b');
}, 60_000);

afterAll(async () => {
  for (const entry of nodes.values()) await entry.stop();
  await scheduler?.close();
  await database?.drop();
  if (root) await rm(root, { recursive: true, force: true });
}, 60_000);

describe('deleting a volume', () => {
  it('names the kernels that mount it, and deleted anyway erases its disk once they let go', async () => {
    const suffix = randomBytes(4).toString('hex');
    const { id: workspaceId } = await database.db.workspace.create({
      data: { name: `ws ${suffix}`, slug: `ws-${suffix}`, plan: 'TEAM' },
    });
    const notebook = await database.db.notebook.create({ data: { workspaceId, name: 'Train' } });
    const volumes = createVolumes({ db: database.db });
    const disks = createVolumeDisks({ db: database.db, secret: SECRET });
    const actor = { userId: null, ip: '203.0.113.9' };
    const data = await volumes.create(workspaceId, actor, 'data');
    await database.db.notebookVolume.create({ data: { notebookId: notebook.id, volumeId: data.id } });

    // The notebook's kernel mounts the volume on the node the scheduler chose; it holds a file open there.
    const gateways = createScheduledGateways({
      scheduler,
      secret: SECRET,
      defaults: { cpu: 1, memoryMiB: 1024 },
    });
    const kernel = await gateways(workspaceId, notebook.id).startKernel({
      volumes: [{ id: data.id, name: 'data', target: '/vol/data', readOnly: false, quotaMiB: 64 }],
    });
    const home = (await scheduler.get(kernel.id)).node?.id as string;
    const dir = await node(home).volumes.dir(workspaceId, data.id, 64);
    await writeFile(join(dir, 'model.bin'), 'weights');
    const held = await open(join(dir, 'model.bin'), 'r');

    // Refused, naming the kernel; nothing is deleted.
    const refused = await volumes.remove(workspaceId, actor, data.id).catch((error: Error) => error);
    expect(refused).toMatchObject({ code: 'CONFLICT' });
    expect((refused as Error).message).toMatch(
      /^The volume data is mounted by notebook Train \((starting|running)\)\. Stop it first, or delete it anyway: it keeps the volume until it stops, then its files are erased\.$/,
    );
    expect((await volumes.list(workspaceId)).map((volume) => volume.name)).toEqual(['data']);
    expect(await database.db.volumeReap.count()).toBe(0);

    // Deleted anyway: gone for the workspace at once (the name is free, the notebook no longer mounts
    // it), while the running kernel keeps its disk.
    const removed = await volumes.remove(workspaceId, actor, data.id, { evenIfMounted: true });
    expect(removed.holders.map((holder) => holder.label)).toEqual(['notebook Train']);
    expect(await volumes.list(workspaceId)).toEqual([]);
    expect(await database.db.notebookVolume.count({ where: { notebookId: notebook.id } })).toBe(0);
    const again = await volumes.create(workspaceId, actor, 'data');
    expect(again.id).not.toBe(data.id);
    const first = await disks.reap(data.id);
    expect(first.erased).toBe(false);
    expect(first.waiting).toMatch(/in use by a running kernel/);
    expect(existsSync(join(dir, 'model.bin'))).toBe(true);
    expect(await database.db.volumeReap.findFirst({ where: { volumeId: data.id } })).toMatchObject({
      name: 'data',
      nodeId: home,
      lastError: expect.stringMatching(/in use/),
    });

    // The kernel stops: the next housekeeping pass erases the disk.
    await held.close();
    await gateways(workspaceId, notebook.id).shutdownKernel(kernel.id);
    await disks.reapAll();
    expect(await database.db.volumeReap.count()).toBe(0);
    expect((await imagesOn(home)).some((name) => name.includes(data.id))).toBe(false);
    const audit = await database.db.auditLog.findFirst({
      where: { workspaceId, action: 'volume.deleted' },
    });
    expect(audit?.metadata).toMatchObject({ volumeId: data.id, mountedBy: ['notebook Train'] });
  }, 180_000);

  it('deletes a volume whose node is lost at once and erases its disk when the node is back', async () => {
    const suffix = randomBytes(4).toString('hex');
    const { id: workspaceId } = await database.db.workspace.create({
      data: { name: `ws ${suffix}`, slug: `ws-${suffix}`, plan: 'TEAM' },
    });
    const volumes = createVolumes({ db: database.db });
    const disks = createVolumeDisks({ db: database.db, secret: SECRET });
    const actor = { userId: null };
    const away = await volumes.create(workspaceId, actor, 'away');
    // Its first use puts it on node-b (a kernel that only b could hold would do the same).
    await database.db.volume.update({ where: { id: away.id }, data: { nodeId: 'node-b' } });
    const dir = await node('node-b').volumes.dir(workspaceId, away.id, 64);
    await writeFile(join(dir, 'notes.txt'), 'kept until the node is back');
    expect((await imagesOn('node-b')).some((name) => name.includes(away.id))).toBe(true);

    await node('node-b').stop();
    nodes.delete('node-b');
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect((await scheduler.detectLostNodes()).nodes).toEqual(['node-b']);

    // No kernel can hold it (its node's are lost): deleted without waiting for the node.
    await volumes.remove(workspaceId, actor, away.id);
    expect(await volumes.list(workspaceId)).toEqual([]);
    expect(await disks.reap(away.id)).toEqual({
      erased: false,
      waiting: 'node node-b, which holds its files, is offline',
    });
    expect((await imagesOn('node-b')).some((name) => name.includes(away.id))).toBe(true);
    // What the volumes bar lists: its files still wait, and why.
    expect(await pendingErasures(database.db, workspaceId)).toEqual([
      {
        name: 'away',
        movedTo: null,
        nodeId: 'node-b',
        since: expect.any(Date),
        waiting: 'node node-b, which holds its files, is offline',
      },
    ]);

    // node-b comes back (same id and disk): the housekeeping pass erases the volume there.
    await startNode('node-b');
    await disks.reapAll();
    expect(await database.db.volumeReap.count()).toBe(0);
    expect((await imagesOn('node-b')).some((name) => name.includes(away.id))).toBe(false);
    expect(existsSync(dir)).toBe(false);
    expect(await pendingErasures(database.db, workspaceId)).toEqual([]);
  }, 180_000);
});
