import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CollabServer, createCollabServer, createMemoryStore } from '@kiln/collab';
import { createTestDatabase, type TestDatabase } from '@kiln/db/testing';
import { createExecutionService, type ExecutionService } from '@kiln/execution';
import { workspaceToken } from '@kiln/kernel-protocol/client';
import { createNotebookDoc, getCellOutputs, getCells, insertCell } from '@kiln/notebook';
import { createScheduler, type Scheduler } from '@kiln/scheduler';
import { createVolumes, type DiskEntry } from '@kiln/volumes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as Y from 'yjs';
import { createDiskTransfer } from './disk-transfer.ts';
import { type GatewayProcess, spawnGatewayProcess } from './gateway-test-nodes.ts';
import { createScheduledGateways } from './scheduled-gateway.ts';
import { createVolumeDisks } from './volume-disks.ts';

// Moving a named volume and /workspace between two real gateway processes (runsc kernels, ext4 disks)
// over real Postgres: what a kernel wrote on one node is read by a kernel on the other after the move;
// a move while a kernel mounts the disk is refused naming it; a copy broken by the target node dying
// leaves the original in charge. Cold kernel starts on a loaded 2-core machine are slow: generous timeouts.
const SECRET = `disk-move-${randomBytes(12).toString('hex')}`;
const QUOTAS = { TEAM: 256 };
let database: TestDatabase;
let stateRoot: string;
let scheduler: Scheduler;
let collab: CollabServer;
let execution: ExecutionService;
let ticker: NodeJS.Timeout;
const nodes = new Map<string, { gateway: GatewayProcess; url: string }>();

/** Starts `apps/kernel-gateway` as node `id` (1 CPU, 4 GiB declared) and waits until it registered. */
async function startNode(id: string): Promise<void> {
  const gateway = spawnGatewayProcess({
    id,
    secret: SECRET,
    stateDir: join(stateRoot, id),
    databaseUrl: database.url,
    env: { KILN_SNAPSHOTS: 'false' },
  });
  await gateway.registered;
  const node = (await scheduler.listNodes()).find((entry) => entry.id === id);
  if (!node) throw new Error(`node ${id} is not registered`);
  nodes.set(id, { gateway, url: node.url });
}

function urlOf(id: string): string {
  const node = nodes.get(id);
  if (!node) throw new Error(`no node ${id}`);
  return node.url;
}

/** A notebook document with one code cell, and its Notebook row (so refusals can name it). */
async function notebook(
  workspaceId: string,
  name: string,
  source: string,
): Promise<{ id: string; doc: Y.Doc }> {
  const id = randomUUID();
  await database.db.notebook.create({ data: { id, workspaceId, name } });
  const connection = await collab.openDirectConnection(id);
  await connection.transact((doc) => {
    createNotebookDoc({ doc });
    getCells(doc).delete(0, getCells(doc).length);
    insertCell(doc, { id: 'c0', cell_type: 'code', source });
  });
  return { id, doc: connection.document };
}

function outputText(doc: Y.Doc): string {
  const cell = getCells(doc).get(0);
  return getCellOutputs(cell)
    .map((output) =>
      output.output_type === 'stream' ? String(output.text) : `${output.ename ?? ''}: ${output.evalue ?? ''}`,
    )
    .join('');
}

async function teamWorkspace() {
  const suffix = randomBytes(4).toString('hex');
  return database.db.workspace.create({ data: { name: `ws ${suffix}`, slug: `ws-${suffix}`, plan: 'TEAM' } });
}

const actor = { userId: null, ip: '203.0.113.7' };

beforeAll(async () => {
  database = await createTestDatabase({ max: 8 });
  stateRoot = await mkdtemp(join(tmpdir(), 'kiln-disk-move-'));
  // Generous: a loaded 2-core machine can delay a heartbeat by seconds.
  scheduler = createScheduler({ db: database.db, heartbeatTimeoutMs: 10_000 });
  ticker = setInterval(() => void scheduler.tick().catch(() => undefined), 500);
  collab = createCollabServer({ store: createMemoryStore(), unloadDelayMs: 0, onError: () => {} });
  execution = createExecutionService({
    openDocument: (id) => collab.openDirectConnection(id),
    gateway: createScheduledGateways({ scheduler, secret: SECRET, defaults: { cpu: 1, memoryMiB: 1024 } }),
  });
  await Promise.all([startNode('node-a'), startNode('node-b')]);
}, 600_000);

afterAll(async () => {
  clearInterval(ticker);
  await execution?.dispose();
  await Promise.all([...nodes.values()].map((node) => node.gateway.stop()));
  await scheduler?.close();
  await collab?.close();
  await database?.drop();
  if (stateRoot) await rm(stateRoot, { recursive: true, force: true });
}, 300_000);

describe('moving disks between nodes', () => {
  it('a file a kernel wrote on one node is read by a kernel on the other after the move', async () => {
    const workspace = await teamWorkspace();
    const volumes = createVolumes({ db: database.db, quotas: QUOTAS });
    const disks = createVolumeDisks({ db: database.db, secret: SECRET, quotas: QUOTAS });
    await volumes.create(workspace.id, actor, 'data');
    const mounts = await volumes.mounts(workspace.id, [{ name: 'data' }]);
    const user = { userId: randomUUID(), name: 'Ada' };
    const run = (notebookId: string) =>
      execution.run({
        notebookId,
        workspaceId: workspace.id,
        target: { kind: 'all' },
        user,
        volumes: mounts,
      });

    const writer = await notebook(
      workspace.id,
      'Write',
      [
        'import hashlib, os',
        "os.makedirs('/vol/data/models', exist_ok=True)",
        'blob = os.urandom(3 * 1024 * 1024)',
        "open('/vol/data/models/weights.bin', 'wb').write(blob)",
        "open('/vol/data/empty.txt', 'w').close()",
        "open('/workspace/notes.txt', 'w').write('written on the first node')",
        "open('/workspace/run.sh', 'w').write('#!/bin/sh\\necho hi\\n'); os.chmod('/workspace/run.sh', 0o755)",
        "os.symlink('notes.txt', '/workspace/latest')",
        "print('sha', hashlib.sha256(blob).hexdigest())",
      ].join('\n'),
    );
    await run(writer.id);
    await execution.whenIdle(writer.id);
    const sha = /sha ([0-9a-f]{64})/.exec(outputText(writer.doc))?.[1];
    expect(sha, outputText(writer.doc)).toBeDefined();
    const home = (await scheduler.list({ ownerId: writer.id }))[0]?.node?.id as string;
    const other = home === 'node-a' ? 'node-b' : 'node-a';
    await execution.shutdown(writer.id);

    // Both disks move: one kernel mounts /workspace and its volumes from one node.
    const volumeId = mounts[0]?.id as string;
    const movedVolume = await disks.move({
      workspaceId: workspace.id,
      actor,
      disk: { volumeId },
      toNodeId: other,
    });
    expect(movedVolume).toMatchObject({
      name: 'data',
      from: home,
      to: other,
      files: 2,
      bytes: 3 * 1024 * 1024,
      skipped: [],
      oldCopyErased: true,
    });
    const movedWorkspace = await disks.move({
      workspaceId: workspace.id,
      actor,
      disk: { workspace: true },
      toNodeId: other,
    });
    expect(movedWorkspace).toMatchObject({ name: '/workspace', from: home, to: other, oldCopyErased: true });
    // The old copies are gone from the first node's disk.
    expect(existsSync(join(stateRoot, home, 'named-volumes', `${workspace.id}--${volumeId}.ext4`))).toBe(
      false,
    );
    expect(existsSync(join(stateRoot, home, 'volumes', `${workspace.id}.ext4`))).toBe(false);
    expect(await database.db.volumeReap.count({ where: { workspaceId: workspace.id } })).toBe(0);

    const reader = await notebook(
      workspace.id,
      'Read',
      [
        'import hashlib, os',
        "print('sha', hashlib.sha256(open('/vol/data/models/weights.bin', 'rb').read()).hexdigest())",
        "print('notes', open('/workspace/notes.txt').read())",
        "print('link', os.readlink('/workspace/latest'), open('/workspace/latest').read())",
        "print('exec', os.access('/workspace/run.sh', os.X_OK), os.path.getsize('/vol/data/empty.txt'))",
      ].join('\n'),
    );
    await run(reader.id);
    await execution.whenIdle(reader.id);
    const text = outputText(reader.doc);
    expect(text).toContain(`sha ${sha}`);
    expect(text).toContain('notes written on the first node');
    expect(text).toContain('link notes.txt written on the first node');
    expect(text).toContain('exec True 0');
    expect((await scheduler.list({ ownerId: reader.id }))[0]?.node?.id).toBe(other);
    await execution.shutdown(reader.id);
    const audit = await database.db.auditLog.findMany({
      where: { workspaceId: workspace.id, action: 'volume.moved' },
      select: { target: true },
    });
    expect(audit.map((entry) => entry.target).sort()).toEqual(['/workspace', 'data']);
  }, 600_000);

  it('refuses to move a disk a running kernel mounts, naming the kernel', async () => {
    const workspace = await teamWorkspace();
    const disks = createVolumeDisks({ db: database.db, secret: SECRET, quotas: QUOTAS });
    const holder = await notebook(workspace.id, 'Train', "print('up')");
    await execution.run({
      notebookId: holder.id,
      workspaceId: workspace.id,
      target: { kind: 'all' },
      user: { userId: randomUUID(), name: 'Ada' },
    });
    await execution.whenIdle(holder.id);
    expect(outputText(holder.doc)).toContain('up');
    const home = (await scheduler.list({ ownerId: holder.id }))[0]?.node?.id as string;
    const other = home === 'node-a' ? 'node-b' : 'node-a';
    const refused = await disks
      .move({ workspaceId: workspace.id, actor, disk: { workspace: true }, toNodeId: other })
      .catch((error: Error) => error);
    expect(refused).toMatchObject({ code: 'CONFLICT' });
    expect((refused as Error).message).toBe(
      "This workspace's /workspace folder is mounted by notebook Train (running). Stop it first, then move it.",
    );
    expect(
      await database.db.workspaceDisk.findUnique({ where: { workspaceId: workspace.id } }),
    ).toMatchObject({
      nodeId: home,
    });
    await execution.shutdown(holder.id);
  }, 600_000);

  it('a copy broken by the target node dying leaves the original in charge; the next move is clean', async () => {
    const workspace = await teamWorkspace();
    const volumes = createVolumes({ db: database.db, quotas: QUOTAS });
    const disks = createVolumeDisks({ db: database.db, secret: SECRET, quotas: QUOTAS });
    const transfer = createDiskTransfer({ secret: SECRET });
    const volume = await volumes.create(workspace.id, actor, 'shards');
    await database.db.volume.update({ where: { id: volume.id }, data: { nodeId: 'node-a' } });
    const on = (nodeId: string) => ({
      nodeUrl: urlOf(nodeId),
      workspaceId: workspace.id,
      volume: volume.id,
      quotaMiB: QUOTAS.TEAM,
    });
    // Four files written through node-a's file API.
    for (let i = 0; i < 4; i++) {
      const response = await fetch(`${urlOf('node-a')}/kiln/volumes/${volume.id}/file?path=shard-${i}.bin`, {
        method: 'PUT',
        headers: {
          authorization: `token ${workspaceToken(SECRET, workspace.id)}`,
          'x-kiln-volume-quota-mib': String(QUOTAS.TEAM),
        },
        body: randomBytes(256 * 1024),
      });
      expect(response.status).toBe(201);
    }
    const before = await transfer.manifest(on('node-a'), true);
    expect(before.entries.map((entry) => entry.path)).toEqual([0, 1, 2, 3].map((i) => `shard-${i}.bin`));

    // node-b is killed after the first file reached it.
    const copied: DiskEntry[] = [];
    const broken = await disks
      .move({
        workspaceId: workspace.id,
        actor,
        disk: { volumeId: volume.id },
        toNodeId: 'node-b',
        onEntry: async (entry) => {
          copied.push(entry);
          if (copied.length === 1) await nodes.get('node-b')?.gateway.stop('SIGKILL');
        },
      })
      .catch((error: Error) => error);
    expect(broken).toBeInstanceOf(Error);
    expect((broken as Error).message).toMatch(/^Node http:\/\/127\.0\.0\.1:\d+ could not be reached/);
    expect(copied).toHaveLength(1);
    // Nothing changed: the record, the original's files, no erase pending.
    expect(await database.db.volume.findUnique({ where: { id: volume.id } })).toMatchObject({
      nodeId: 'node-a',
    });
    expect(await scheduler.volumeNode(workspace.id, volume.id)).toMatchObject({ id: 'node-a' });
    expect(await transfer.manifest(on('node-a'), true)).toEqual(before);
    expect(await database.db.volumeReap.count({ where: { workspaceId: workspace.id } })).toBe(0);

    // node-b is back (its partial copy still on its disk): the next move erases that first and is exact.
    await startNode('node-b');
    const moved = await disks.move({
      workspaceId: workspace.id,
      actor,
      disk: { volumeId: volume.id },
      toNodeId: 'node-b',
    });
    expect(moved).toMatchObject({ from: 'node-a', to: 'node-b', files: 4, oldCopyErased: true });
    const after = await transfer.manifest(on('node-b'), true);
    expect(after.entries.map((entry) => [entry.path, entry.size, entry.sha256])).toEqual(
      before.entries.map((entry) => [entry.path, entry.size, entry.sha256]),
    );
    expect(existsSync(join(stateRoot, 'node-a', 'named-volumes', `${workspace.id}--${volume.id}.ext4`))).toBe(
      false,
    );
  }, 600_000);
});
