import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, type TestDatabase } from '@kiln/db/testing';
import { workspaceToken } from '@kiln/kernel-protocol/client';
import { createScheduler, type Scheduler } from '@kiln/scheduler';
import { createVolumes, type DiskMoveOptions, diskPlacement, moveDisk } from '@kiln/volumes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNamedVolumes, type NamedVolumes } from '../../../kernel-gateway/src/sandbox/named-volumes.ts';
import { createDiskTransfer } from './disk-transfer.ts';
import { startInProcessNode } from './gateway-test-nodes.ts';
import { createVolumeDisks } from './volume-disks.ts';

// Two moves of one disk, from two callers (as two web processes would), over real Postgres and two
// in-process gateway nodes (on the sandbox stand-in) with real quota-bounded disks, copied through the
// file APIs: the second is refused while the first holds the disk's claim (renewed past its lease), a
// claim whose mover died is taken over, a move whose claim was taken over does not switch, and the
// claim is gone after a move succeeds or fails.
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
  const { stop } = await startInProcessNode({
    id,
    db: database.db,
    secret: SECRET,
    heartbeatMs: 500,
    namedVolumes: volumes,
    diskRefusal: true,
  });
  disks.set(id, volumes);
  stops.push(stop);
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

  it('a write reaching the old node after the move erased its copy is refused and makes no disk there', async () => {
    const { workspaceId, volumeId } = await volumeOnA('late');
    const volumeDisks = createVolumeDisks({
      db: database.db,
      secret: SECRET,
      quotas: QUOTAS,
      transfer: createDiskTransfer({ secret: SECRET }),
    });
    const moved = await volumeDisks.move({ workspaceId, actor, disk: { volumeId }, toNodeId: 'node-b' });
    expect(moved).toMatchObject({ from: 'node-a', to: 'node-b', files: 3, oldCopyErased: true });
    // Whatever node-a keeps of the volume (its ext4 image, its mount folder).
    const onA = async () =>
      (await readdir(join(root, 'node-a', 'named-volumes')).catch(() => [])).filter((name) =>
        name.includes(volumeId),
      );
    expect(await onA()).toEqual([]);

    // A file-browser upload the web app had sent to node-a before the switch arrives only now.
    const nodeA = (await scheduler.listNodes()).find((entry) => entry.id === 'node-a');
    const late = await fetch(`${nodeA?.url}/kiln/volumes/${volumeId}/file?path=late.txt`, {
      method: 'PUT',
      headers: {
        authorization: `token ${workspaceToken(SECRET, workspaceId)}`,
        'x-kiln-volume-quota-mib': String(QUOTAS.TEAM),
      },
      body: 'too late',
    });
    expect(late.status).toBe(409);
    expect(((await late.json()) as { message: string }).message).toBe(
      'This volume lives on node node-b now, not on node node-a; reload the page to reach it there',
    );
    expect(await onA()).toEqual([]);
    // The disk on node-b is untouched and still takes writes there.
    const nodeB = (await scheduler.listNodes()).find((entry) => entry.id === 'node-b');
    const there = await fetch(`${nodeB?.url}/kiln/volumes/${volumeId}/file?path=late.txt`, {
      method: 'PUT',
      headers: {
        authorization: `token ${workspaceToken(SECRET, workspaceId)}`,
        'x-kiln-volume-quota-mib': String(QUOTAS.TEAM),
      },
      body: 'on time',
    });
    expect(there.status).toBe(201);
  }, 120_000);

  it('carries file and folder modification times over, and names the special files it could not copy', async () => {
    const { workspaceId, volumeId } = await volumeOnA('dated');
    const dir = (await disks.get('node-a')?.dir(workspaceId, volumeId, QUOTAS.TEAM)) as string;
    await mkdir(join(dir, 'runs/2024'), { recursive: true });
    await writeFile(join(dir, 'runs/2024/log.txt'), 'epoch 1');
    execFileSync('mkfifo', [join(dir, 'runs/pipe')]);
    // A bound socket stays on disk after its process ends (bound from inside: the full path is too long
    // for a socket address).
    execFileSync('python3', ['-c', "import socket; socket.socket(socket.AF_UNIX).bind('agent.sock')"], {
      cwd: dir,
    });
    const times: Record<string, number> = {
      'part-0.bin': Date.UTC(2021, 0, 2, 3, 4, 5, 678),
      'runs/2024/log.txt': Date.UTC(2024, 5, 1, 12, 0, 0, 1),
      'runs/2024': Date.UTC(2024, 5, 1, 12, 30),
      runs: Date.UTC(2023, 11, 31, 23, 59, 59),
    };
    // Set once everything is made: making an entry in a folder changes the folder's time.
    for (const [path, ms] of Object.entries(times)) await utimes(join(dir, path), new Date(), new Date(ms));

    const moved = await moveDisk(options(), { workspaceId, actor, disk: { volumeId }, toNodeId: 'node-b' });
    expect(moved).toMatchObject({ from: 'node-a', to: 'node-b', files: 4 });
    expect([...moved.skipped].sort()).toEqual(['agent.sock', 'runs/pipe']);
    const copy = (await disks.get('node-b')?.dir(workspaceId, volumeId, QUOTAS.TEAM)) as string;
    for (const [path, ms] of Object.entries(times))
      expect({ path, mtime: Math.round((await stat(join(copy, path))).mtimeMs) }).toEqual({
        path,
        mtime: ms,
      });
    expect(await readFile(join(copy, 'runs/2024/log.txt'), 'utf8')).toBe('epoch 1');
  }, 120_000);
});
