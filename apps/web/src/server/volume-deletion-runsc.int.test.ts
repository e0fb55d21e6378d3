import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CollabServer, createCollabServer, createMemoryStore } from '@kiln/collab';
import { createTestDatabase, type TestDatabase } from '@kiln/db/testing';
import { createExecutionService, type ExecutionService } from '@kiln/execution';
import { createNotebookDoc, getCellOutputs, getCells, insertCell } from '@kiln/notebook';
import { createScheduler, type Scheduler } from '@kiln/scheduler';
import { createVolumes, deletedVolumeReason, pendingErasures, reapVolumes } from '@kiln/volumes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as Y from 'yjs';
import { type GatewayProcess, spawnGatewayProcess } from './gateway-test-nodes.ts';
import { createScheduledGateways } from './scheduled-gateway.ts';
import { createVolumeReaper } from './volume-disks.ts';

// On a real gateway process with runsc kernels (its own database, scheduler and node): "delete anyway"
// stops the kernels that mount the volume, a hibernated one included, each notebook told why, before the
// volume's disk is erased; the next run starts without it. The same rules on in-process nodes with the
// sandbox stand-in are in volume-deletion.int.test.ts.
const SECRET = `volume-deletion-runsc-${randomBytes(12).toString('hex')}`;

/** Polls `check` until it holds (state written by other processes has no event to wait on here). */
async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 300_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe('deleting a volume that runsc kernels mount, one of them hibernated', () => {
  const QUOTAS = { TEAM: 128 };
  // Its own database: this node's registration must not meet the lost-node checks above.
  let runscDb: TestDatabase;
  let runscScheduler: Scheduler;
  let collab: CollabServer;
  let execution: ExecutionService;
  let ticker: NodeJS.Timeout;
  let stateDir: string;
  let gateway: GatewayProcess | undefined;

  beforeAll(async () => {
    runscDb = await createTestDatabase({ max: 8 });
    stateDir = await mkdtemp(join(tmpdir(), 'kiln-volume-deletion-runsc-'));
    runscScheduler = createScheduler({ db: runscDb.db, heartbeatTimeoutMs: 30_000 });
    ticker = setInterval(() => void runscScheduler.tick().catch(() => undefined), 500);
    collab = createCollabServer({ store: createMemoryStore(), unloadDelayMs: 0, onError: () => {} });
    execution = createExecutionService({
      openDocument: (id) => collab.openDirectConnection(id),
      gateway: createScheduledGateways({
        scheduler: runscScheduler,
        secret: SECRET,
        defaults: { cpu: 1, memoryMiB: 1024 },
      }),
    });
    // Idle kernels hibernate after 2 s, as a quiet notebook's does after its idle time.
    gateway = spawnGatewayProcess({
      id: 'node-r',
      secret: SECRET,
      stateDir,
      databaseUrl: runscDb.url,
      cpu: 2,
      env: { KILN_SNAPSHOTS: 'false', KILN_HIBERNATE_IDLE_SECONDS: '2', KILN_CULL_INTERVAL_SECONDS: '1' },
    });
    await gateway.registered;
  }, 600_000);

  afterAll(async () => {
    clearInterval(ticker);
    await execution?.dispose();
    await gateway?.stop();
    await runscScheduler?.close();
    await collab?.close();
    await runscDb?.drop();
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  }, 300_000);

  async function notebookWith(workspaceId: string, name: string, source: string) {
    const id = randomUUID();
    await runscDb.db.notebook.create({ data: { id, workspaceId, name } });
    const connection = await collab.openDirectConnection(id);
    await connection.transact((doc) => {
      createNotebookDoc({ doc });
      getCells(doc).delete(0, getCells(doc).length);
      insertCell(doc, { id: 'c0', cell_type: 'code', source });
    });
    return { id, doc: connection.document, connection };
  }

  function outputText(doc: Y.Doc): string {
    return getCellOutputs(getCells(doc).get(0))
      .map((output) =>
        output.output_type === 'stream'
          ? String(output.text)
          : `${output.ename ?? ''}: ${output.evalue ?? ''}`,
      )
      .join('');
  }

  it('stops the sleeping and the running kernel with the reason before erasing; the next run starts without it', async () => {
    const db = runscDb.db;
    const suffix = randomBytes(4).toString('hex');
    const workspace = await db.workspace.create({
      data: { name: `ws ${suffix}`, slug: `ws-${suffix}`, plan: 'TEAM' },
    });
    const volumes = createVolumes({ db, quotas: QUOTAS });
    const actor = { userId: null, ip: '203.0.113.9' };
    const data = await volumes.create(workspace.id, actor, 'data');
    const user = { userId: randomUUID(), name: 'Ada' };
    const sleepy = await notebookWith(
      workspace.id,
      'Sleepy',
      "import os\nopen('/vol/data/a.txt', 'w').write('a')\nprint('vol', os.path.exists('/vol/data'))",
    );
    const busy = await notebookWith(
      workspace.id,
      'Busy',
      "import time\nopen('/vol/data/b.txt', 'w').write('b')\nprint('up', flush=True)\nwhile True: time.sleep(0.5)",
    );
    for (const notebook of [sleepy, busy])
      await db.notebookVolume.create({ data: { notebookId: notebook.id, volumeId: data.id } });
    const run = async (notebookId: string) =>
      execution.run({
        notebookId,
        workspaceId: workspace.id,
        target: { kind: 'all' },
        user,
        volumes: await volumes.mountsForNotebook(workspace.id, notebookId),
      });

    // One kernel goes to sleep once its cell is done; the other keeps running its cell.
    await run(sleepy.id);
    await execution.whenIdle(sleepy.id);
    expect(outputText(sleepy.doc)).toContain('vol True');
    await run(busy.id);
    await until('the busy cell runs', () => outputText(busy.doc).includes('up'));
    const sleepyKernel = (await runscScheduler.list({ ownerId: sleepy.id }))[0]?.id as string;
    const busyKernel = (await runscScheduler.list({ ownerId: busy.id }))[0]?.id as string;
    await until(
      'the idle kernel hibernated',
      async () => (await runscScheduler.get(sleepyKernel)).state === 'hibernated',
    );
    expect((await runscScheduler.get(busyKernel)).state).toBe('running');
    const image = join(stateDir, 'named-volumes', `${workspace.id}--${data.id}.ext4`);
    expect(existsSync(image)).toBe(true);

    // Refused first, naming both; then deleted anyway.
    const refused = await volumes.remove(workspace.id, actor, data.id).catch((error: Error) => error);
    expect((refused as Error).message).toMatch(/notebook Sleepy \(hibernated\)/);
    expect((refused as Error).message).toMatch(/notebook Busy \(running\)/);
    await volumes.remove(workspace.id, actor, data.id, { evenIfMounted: true });

    // A reaper that cannot stop them never erases under them, the sleeping one included (its sandbox
    // holds no mount while it sleeps, so the node alone would let the erase through).
    const unable = await reapVolumes(createVolumeReaper({ db, secret: SECRET }), data.id);
    expect(unable.erased).toEqual([]);
    expect(unable.waiting[0]?.reason).toMatch(/^still mounted by .*notebook Sleepy \(hibernated\)/);
    expect(existsSync(image)).toBe(true);
    expect((await runscScheduler.get(sleepyKernel)).state).toBe('hibernated');

    // The web's reaper stops both, each with the reason, and only then erases the disk.
    const reaper = createVolumeReaper({ db, secret: SECRET, scheduler: runscScheduler });
    const statesAtErase: string[] = [];
    const result = await reapVolumes(
      {
        ...reaper,
        async erase(nodeUrl, workspaceId, volume) {
          for (const id of [sleepyKernel, busyKernel])
            statesAtErase.push((await runscScheduler.get(id)).state);
          await reaper.erase(nodeUrl, workspaceId, volume);
        },
      },
      data.id,
    );
    expect(result).toEqual({ erased: [data.id], waiting: [] });
    expect(statesAtErase).toEqual(['stopped', 'stopped']);
    expect(existsSync(image)).toBe(false);
    expect(await pendingErasures(db, workspace.id)).toEqual([]);
    const reason = deletedVolumeReason('data');
    for (const id of [sleepyKernel, busyKernel])
      expect((await runscScheduler.get(id)).stop).toMatchObject({ code: 'stopped', reason });

    // What the notebooks show: the kernel is dead, and why; the running cell ended with that reason.
    await until('both notebooks show the reason', () =>
      [sleepy.id, busy.id].every((id) => execution.state(id)?.kernel.status === 'dead'),
    );
    expect(execution.state(sleepy.id)?.kernel).toMatchObject({ status: 'dead', reason });
    expect(execution.state(busy.id)?.kernel).toMatchObject({ status: 'dead', reason });
    expect(outputText(busy.doc)).toContain(`KernelDied: ${reason}`);

    // Running the sleeping notebook again starts a new kernel with this run's options: no volume.
    await sleepy.connection.transact((doc) => {
      const text = getCells(doc).get(0).get('source') as Y.Text;
      text.delete(0, text.length);
      text.insert(0, "import os\nprint('vol', os.path.exists('/vol/data'))");
    });
    await run(sleepy.id);
    await execution.whenIdle(sleepy.id);
    expect(outputText(sleepy.doc)).toContain('vol False');
    const replacement = (await runscScheduler.list({ ownerId: sleepy.id })).find(
      (c) => c.id !== sleepyKernel,
    );
    expect(replacement?.state).toMatch(/running|hibernated/);
    await execution.shutdown(sleepy.id);
    await execution.shutdown(busy.id);
  }, 900_000);
});
