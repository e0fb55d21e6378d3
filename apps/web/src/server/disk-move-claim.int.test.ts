import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isUuid } from '@kiln/core';
import { createTestDatabase, type TestDatabase } from '@kiln/db/testing';
import { createGateway } from '@kiln/kernel-gateway';
import { createScheduler, discoverGpus, type Scheduler } from '@kiln/scheduler';
import { createVolumes, type DiskMoveOptions, diskPlacement, moveDisk } from '@kiln/volumes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSchedulerNode } from '../../../kernel-gateway/src/node/scheduler-node.ts';
import { createNamedVolumes, type NamedVolumes } from '../../../kernel-gateway/src/sandbox/named-volumes.ts';
// The sandbox stand-in of the gateway's own tests: moves copy real ext4 disks through the file APIs.
import { FakeDriver } from '../../../kernel-gateway/test/fake-driver.ts';
import { createDiskTransfer } from './disk-transfer.ts';

// Two moves of one disk, from two callers (as two web processes would), over real Postgres and two
// in-process gateway nodes with real quota-bounded disks: the second is refused while the first holds
// the disk's claim (renewed past its lease), a claim whose mover died is taken over, a move whose claim
// was taken over does not switch, and the claim is gone after a move succeeds or fails.
const SECRET = `disk-move-claim-${randomBytes(12).toString('hex')}`;
const QUOTAS = { TEAM: 64 };
// Short, so the test proves renewal past a lease without waiting a minute.
const CLAIM = { leaseMs: 3000, renewMs: 500 };
let database: TestDatabase;
let scheduler: Scheduler;
let root: string;
const stops: (() => Promise<void>)[] = [];
const disks = new Map<string, NamedVolumes>();

async function startNode(id: string): Promise<void> {
  const volumes = createNamedVolumes({ stateDir: join(root, id), maxMiB: 64 });
  const own = createScheduler({ db: database.db });
  const node = createSchedulerNode({
    scheduler: own,
    identity: { cpu: 4, memoryMiB: 8192, gpus: await discoverGpus({ declared: [] }) },
    heartbeatMs: 500,
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
  disks.set(id, volumes);
  stops.push(async () => {
    await gateway.close();
    await node.close();
    await own.close();
    await volumes.close();
  });
}

function options(): DiskMoveOptions {
  return { db: database.db, transfer: createDiskTransfer({ secret: SECRET }), quotas: QUOTAS, claim: CLAIM };
}

async function volumeOnA(name: string) {
  const suffix = randomBytes(4).toString('hex');
  const workspace = await database.db.workspace.create({
    data: { name: `ws ${suffix}`, slug: `ws-${suffix}`, plan: 'TEAM' },
  });
  const volume = await createVolumes({ db: database.db, quotas: QUOTAS }).create(
    workspace.id,
    { userId: null },
    name,
  );
  await database.db.volume.update({ where: { id: volume.id }, data: { nodeId: 'node-a' } });
  const dir = await disks.get('node-a')?.dir(workspace.id, volume.id, QUOTAS.TEAM);
  for (let i = 0; i < 3; i++) await writeFile(join(dir as string, `part-${i}.bin`), randomBytes(64 * 1024));
  return { workspaceId: workspace.id, volumeId: volume.id };
}

const actor = { userId: null, ip: '203.0.113.5' };

beforeAll(async () => {
  database = await createTestDatabase({ max: 8 });
  root = await mkdtemp(join(tmpdir(), 'kiln-disk-move-claim-'));
  scheduler = createScheduler({ db: database.db, heartbeatTimeoutMs: 30_000 });
  await startNode('node-a');
  await startNode('node-b');
}, 60_000);

afterAll(async () => {
  for (const stop of stops) await stop();
  await scheduler?.close();
  await database?.drop();
  if (root) await rm(root, { recursive: true, force: true });
}, 60_000);

describe('one move of a disk at a time', () => {
  it('refuses a second move while the first runs past its lease, and releases the claim when it ends', async () => {
    const { workspaceId, volumeId } = await volumeOnA('data');
    let resume!: () => void;
    const resumed = new Promise<void>((resolve) => {
      resume = resolve;
    });
    let paused!: () => void;
    const atFirstEntry = new Promise<void>((resolve) => {
      paused = resolve;
    });
    let entries = 0;
    const mover = await database.db.user.create({
      data: { email: `mover-${randomBytes(4).toString('hex')}@kiln.test`, name: 'Ada Mover' },
    });
    const first = moveDisk(options(), {
      workspaceId,
      actor: { userId: mover.id, ip: actor.ip },
      disk: { volumeId },
      toNodeId: 'node-b',
      onEntry: async () => {
        entries += 1;
        if (entries > 1) return;
        paused();
        await resumed;
      },
    });
    await atFirstEntry;
    // Longer than the lease: only renewal keeps the claim.
    await new Promise((resolve) => setTimeout(resolve, CLAIM.leaseMs + 1500));
    const second = await moveDisk(options(), {
      workspaceId,
      actor,
      disk: { volumeId },
      toNodeId: 'node-b',
    }).catch((error: Error) => error);
    expect(second).toMatchObject({ code: 'CONFLICT', details: { reason: 'disk_move_in_progress' } });
    expect((second as Error).message).toMatch(
      /^The volume data is already being moved to node node-b \(started \d+ s ago\); wait until that move ends, then try again\.$/,
    );
    expect(await database.db.diskMove.count({ where: { diskId: volumeId } })).toBe(1);
    // The move dialog's view of it: where to, who started it and when.
    const during = await diskPlacement(database.db, workspaceId, { volumeId });
    expect(during.moving).toMatchObject({ toNodeId: 'node-b', startedBy: 'Ada Mover' });
    expect(Date.now() - (during.moving?.startedAt.getTime() ?? 0)).toBeGreaterThanOrEqual(CLAIM.leaseMs);

    resume();
    expect(await first).toMatchObject({ from: 'node-a', to: 'node-b', files: 3 });
    expect(await database.db.volume.findUnique({ where: { id: volumeId } })).toMatchObject({
      nodeId: 'node-b',
    });
    expect(await database.db.diskMove.count({ where: { diskId: volumeId } })).toBe(0);
    expect((await diskPlacement(database.db, workspaceId, { volumeId })).moving).toBeNull();

    // A failed move (its copy breaks) releases the claim too: the next move goes ahead.
    const broken = await moveDisk(options(), {
      workspaceId,
      actor,
      disk: { volumeId },
      toNodeId: 'node-a',
      onEntry: () => {
        throw new Error('the copy broke');
      },
    }).catch((error: Error) => error);
    expect((broken as Error).message).toBe('the copy broke');
    expect(await database.db.diskMove.count({ where: { diskId: volumeId } })).toBe(0);
    expect(
      await moveDisk(options(), { workspaceId, actor, disk: { volumeId }, toNodeId: 'node-a' }),
    ).toMatchObject({
      from: 'node-b',
      to: 'node-a',
    });
  }, 120_000);

  it('takes over a claim whose mover died; a move whose claim was taken over does not switch', async () => {
    const { workspaceId, volumeId } = await volumeOnA('shards');
    // A mover in another process died an hour ago, holding the claim: its lease ran out.
    await database.db.diskMove.create({
      data: {
        diskId: volumeId,
        workspaceId,
        toNodeId: 'node-b',
        holder: randomUUID(),
        startedAt: new Date(Date.now() - 3_600_000),
        expiresAt: new Date(Date.now() - 3_540_000),
      },
    });
    // Its mover is gone: the dialog shows no move in progress.
    expect((await diskPlacement(database.db, workspaceId, { volumeId })).moving).toBeNull();
    const original = await readFile(
      join((await disks.get('node-a')?.dir(workspaceId, volumeId, QUOTAS.TEAM)) as string, 'part-0.bin'),
    );
    let taken = false;
    const interrupted = await moveDisk(options(), {
      workspaceId,
      actor,
      disk: { volumeId },
      toNodeId: 'node-b',
      // Mid-copy, another process takes the claim over (as if this mover had stalled past its lease).
      onEntry: async () => {
        if (taken) return;
        taken = true;
        await database.db.diskMove.update({ where: { diskId: volumeId }, data: { holder: randomUUID() } });
      },
    }).catch((error: Error) => error);
    expect(interrupted).toMatchObject({ code: 'CONFLICT' });
    expect((interrupted as Error).message).toMatch(/another move took it over; nothing was moved/);
    expect(await database.db.volume.findUnique({ where: { id: volumeId } })).toMatchObject({
      nodeId: 'node-a',
    });
    // The other process's claim is its own: this mover did not release it.
    expect(await database.db.diskMove.count({ where: { diskId: volumeId } })).toBe(1);

    // Once that claim is stale too, the next move takes it over and completes with the files intact.
    await database.db.diskMove.update({
      where: { diskId: volumeId },
      data: { expiresAt: new Date(Date.now() - 1000) },
    });
    expect(
      await moveDisk(options(), { workspaceId, actor, disk: { volumeId }, toNodeId: 'node-b' }),
    ).toMatchObject({
      from: 'node-a',
      to: 'node-b',
      files: 3,
    });
    const moved = await readFile(
      join((await disks.get('node-b')?.dir(workspaceId, volumeId, QUOTAS.TEAM)) as string, 'part-0.bin'),
    );
    expect(moved.equals(original)).toBe(true);
    expect(await database.db.diskMove.count({ where: { diskId: volumeId } })).toBe(0);
  }, 120_000);
});
