import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, open, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, type TestDatabase } from '@kiln/db/testing';
import { createGatewayClient, workspaceToken } from '@kiln/kernel-protocol/client';
import { createScheduler, type Scheduler } from '@kiln/scheduler';
import { createVolumes, pendingErasures, reapVolumes } from '@kiln/volumes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNamedVolumes, type NamedVolumes } from '../../../kernel-gateway/src/sandbox/named-volumes.ts';
// The sandbox stand-in of the gateway's own tests: volumes' disks (real ext4 images) are tested here.
import type { KernelSandbox, KernelSandboxOptions } from '../../../kernel-gateway/src/sandbox/types.ts';
import { FakeDriver } from '../../../kernel-gateway/test/fake-driver.ts';
import { startInProcessNode } from './gateway-test-nodes.ts';
import { createScheduledGateways } from './scheduled-gateway.ts';
import { createVolumeDisks, createVolumeReaper } from './volume-disks.ts';

// Deleting volumes on two gateway nodes with real quota-bounded disks, over Postgres: a volume a running
// kernel mounts is refused with the kernel named, or deleted anyway with its disk erased once the kernel
// lets go; a volume whose node is lost is deleted at once and its disk erased when the node is back.
// The same on a real gateway process with runsc kernels is in volume-deletion-runsc.int.test.ts.
const SECRET = `volume-deletion-${randomBytes(12).toString('hex')}`;
let database: TestDatabase;
let scheduler: Scheduler;
let root: string;
const nodes = new Map<string, { volumes: NamedVolumes; stop(): Promise<void> }>();

/**
 * A sandbox start held at a gate (opened by the test, or by a shutdown aborting the start), then
 * mounting its volumes' disks as the runsc driver does: creating a volume's image when it is missing.
 */
class GatedDriver extends FakeDriver {
  mountDir: ((workspaceId: string, volume: string, quotaMiB: number) => Promise<string>) | null = null;
  inStart = false;
  private open = () => {};
  private readonly gate = new Promise<void>((resolve) => {
    this.open = resolve;
  });
  readonly entered: Promise<void>;
  private enter = () => {};

  constructor() {
    super();
    this.entered = new Promise<void>((resolve) => {
      this.enter = resolve;
    });
  }

  release(): void {
    this.open();
  }

  override async start(options: KernelSandboxOptions): Promise<KernelSandbox> {
    this.inStart = true;
    this.enter();
    try {
      const aborted = new Promise<void>((resolve) =>
        options.signal?.addEventListener('abort', () => resolve()),
      );
      await Promise.race([this.gate, aborted]);
      for (const volume of options.volumes ?? [])
        await this.mountDir?.(options.workspaceId, volume.id, volume.quotaMiB ?? 64);
      return await super.start(options);
    } finally {
      this.inStart = false;
    }
  }
}

async function startNode(id: string, driver: FakeDriver = new FakeDriver()): Promise<void> {
  const volumes = createNamedVolumes({ stateDir: join(root, id), maxMiB: 64 });
  if (driver instanceof GatedDriver) driver.mountDir = (w, v, q) => volumes.dir(w, v, q);
  const { stop } = await startInProcessNode({
    id,
    db: database.db,
    secret: SECRET,
    heartbeatMs: 200,
    namedVolumes: volumes,
    driver,
  });
  nodes.set(id, { volumes, stop });
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
      /^The volume data is mounted by notebook Train \((starting|running)\)\. Stop it first, or delete it anyway: it is stopped \(told why\), then its files are erased\.$/,
    );
    expect((await volumes.list(workspaceId)).map((volume) => volume.name)).toEqual(['data']);
    expect(await database.db.volumeReap.count()).toBe(0);

    // Deleted anyway: gone for the workspace at once (the name is free, the notebook no longer mounts
    // it). A reaper that cannot stop kernels (none given a scheduler) leaves the disk while one mounts it.
    const removed = await volumes.remove(workspaceId, actor, data.id, { evenIfMounted: true });
    expect(removed.holders.map((holder) => holder.label)).toEqual(['notebook Train']);
    expect(await volumes.list(workspaceId)).toEqual([]);
    expect(await database.db.notebookVolume.count({ where: { notebookId: notebook.id } })).toBe(0);
    const again = await volumes.create(workspaceId, actor, 'data');
    expect(again.id).not.toBe(data.id);
    const first = await disks.reap(data.id);
    expect(first.erased).toBe(false);
    expect(first.waiting).toMatch(
      /^still mounted by notebook Train \((starting|running)\); erased once it stops$/,
    );
    expect(existsSync(join(dir, 'model.bin'))).toBe(true);
    expect(await database.db.volumeReap.findFirst({ where: { volumeId: data.id } })).toMatchObject({
      name: 'data',
      nodeId: home,
      lastError: expect.stringMatching(/still mounted by notebook Train/),
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

  it('stops a kernel still starting on the volume before its disk is erased; the kernel never mounts it', async () => {
    const suffix = randomBytes(4).toString('hex');
    const { id: workspaceId } = await database.db.workspace.create({
      data: { name: `ws ${suffix}`, slug: `ws-${suffix}`, plan: 'TEAM' },
    });
    const notebook = await database.db.notebook.create({ data: { workspaceId, name: 'Slow' } });
    const volumes = createVolumes({ db: database.db });
    const actor = { userId: null };
    const data = await volumes.create(workspaceId, actor, 'data');
    // The volume lives on node-c, whose sandbox starts wait at a gate.
    const driver = new GatedDriver();
    await startNode('node-c', driver);
    await database.db.volume.update({ where: { id: data.id }, data: { nodeId: 'node-c' } });
    const dir = await node('node-c').volumes.dir(workspaceId, data.id, 64);
    await writeFile(join(dir, 'model.bin'), 'weights');

    const gateways = createScheduledGateways({
      scheduler,
      secret: SECRET,
      defaults: { cpu: 1, memoryMiB: 1024 },
    });
    const starting = gateways(workspaceId, notebook.id)
      .startKernel({
        volumes: [{ id: data.id, name: 'data', target: '/vol/data', readOnly: false, quotaMiB: 64 }],
      })
      .then(
        () => null,
        (error: Error) => error,
      );
    await driver.entered;
    const [container] = await scheduler.list({ ownerId: notebook.id });
    expect(container?.state).toBe('starting');

    // Deleted anyway while its sandbox is still starting: the erase comes only after the node stopped it.
    await volumes.remove(workspaceId, actor, data.id, { evenIfMounted: true });
    const reaper = createVolumeReaper({ db: database.db, secret: SECRET, scheduler });
    let startingAtErase: boolean | null = null;
    const result = await reapVolumes(
      {
        ...reaper,
        async erase(nodeUrl, workspace, volume) {
          startingAtErase = driver.inStart || driver.sandboxes.some((sandbox) => sandbox.shutdowns === 0);
          await reaper.erase(nodeUrl, workspace, volume);
          // Were the start still going, it would mount the disk now.
          driver.release();
        },
      },
      data.id,
    );
    driver.release();
    expect(startingAtErase).toBe(false);
    expect(result).toEqual({ erased: [data.id], waiting: [] });
    const failed = await starting;
    expect(failed?.message).toMatch(/stopped while starting: The volume data was deleted/);
    expect((await scheduler.get(container?.id as string)).state).toBe('stopped');
    // No disk came back for the deleted volume.
    expect((await imagesOn('node-c')).some((name) => name.includes(data.id))).toBe(false);
    expect(existsSync(join(dir, 'model.bin'))).toBe(false);

    // A start that reaches the node only after the volume was deleted is refused before it mounts anything.
    const other = await volumes.create(workspaceId, actor, 'other');
    await database.db.volume.update({ where: { id: other.id }, data: { nodeId: 'node-c' } });
    const late = await scheduler.request({
      workspaceId,
      kind: 'kernel',
      ownerId: notebook.id,
      requestedById: null,
      resources: { cpu: 1, memoryMiB: 1024 },
      volumes: [other.id],
      mountsWorkspace: true,
    });
    expect(late.state).toBe('starting');
    await volumes.remove(workspaceId, actor, other.id, { evenIfMounted: true });
    const client = createGatewayClient({
      baseUrl: late.node?.url as string,
      token: workspaceToken(SECRET, workspaceId),
    });
    const refused = await client
      .startKernel({
        containerId: late.id,
        volumes: [{ id: other.id, name: 'other', target: '/vol/other', readOnly: false, quotaMiB: 64 }],
      })
      .catch((error: Error) => error);
    expect((refused as Error).message).toMatch(
      /A volume this kernel mounts was deleted while it was starting/,
    );
    expect((await imagesOn('node-c')).some((name) => name.includes(other.id))).toBe(false);
    expect((await scheduler.get(late.id)).state).not.toMatch(/starting|running/);
    // Nothing is left to erase (node-c stays up: the lost-node test counts lost nodes).
    expect(await reapVolumes(reaper, other.id)).toEqual({ erased: [other.id], waiting: [] });
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
