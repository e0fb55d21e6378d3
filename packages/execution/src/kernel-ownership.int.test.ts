import { randomUUID } from 'node:crypto';
import { createCollabServer } from '@kiln/collab';
import { createTestDatabase, type TestDatabase } from '@kiln/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExecutionService } from './execution-service.ts';
import { startKernelTakeover } from './kernel-takeover.ts';
import { createPostgresKernelStore } from './postgres-kernel-store.ts';
import { FakeGateway } from './test-support/fake-gateway.ts';
import { cellView, seedNotebook, waitFor } from './test-support/notebook-fixture.ts';
import { createWebProcessLease } from './web-process-lease.ts';

// Two web processes on one Postgres after a third crashed: each of its kernels is resumed by exactly one
// of them (the kernel is scripted here; the records, leases and claims are real Postgres).
let database: TestDatabase;
const cleanup: (() => Promise<void>)[] = [];
/** Errors the services reported while the test ran (record writes still landing after it are not its business). */
const errors: unknown[] = [];
let ending = false;

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  ending = true;
  for (const step of cleanup.splice(0).reverse()) await step();
  await database?.drop();
});

const alice = { userId: 'u-alice', name: 'Alice' };

/** A web process: its lease (renewed while it lives) and its execution service over the shared store. */
async function webProcess(
  collab: ReturnType<typeof createCollabServer>,
  gateway: FakeGateway,
  id: string,
  ttlMs = 60_000,
) {
  const { db } = database;
  const lease = createWebProcessLease(db, { id, ttlMs, heartbeatMs: ttlMs > 10_000 ? 5000 : 60_000 });
  await lease.start();
  const service = createExecutionService({
    gateway: () => gateway,
    openDocument: (notebookId) => collab.openDirectConnection(notebookId),
    kernelStore: createPostgresKernelStore(db, { ownerId: id }),
    reattachMs: 2000,
    onError: ({ error }) => {
      if (!ending) errors.push(error);
    },
  });
  cleanup.push(async () => {
    await service.dispose();
    await lease.stop();
  });
  return { lease, service };
}

describe('kernel records keyed by web process', () => {
  it('two processes resuming at the same moment never both take one kernel, and leave a live process its own', async () => {
    const { db } = database;
    const workspace = await db.workspace.create({ data: { name: 'Lab', slug: `lab-${randomUUID()}` } });
    const collab = createCollabServer({ onError: () => {}, unloadDelayMs: 0 });
    cleanup.push(() => collab.close());
    const gateway = new FakeGateway();
    const process = (id: string, ttlMs?: number) => webProcess(collab, gateway, id, ttlMs);

    const notebooks: string[] = [];
    const docs = [];
    for (let index = 0; index < 4; index++) {
      const notebook = await db.notebook.create({ data: { workspaceId: workspace.id, name: `nb ${index}` } });
      const connection = await seedNotebook(collab, notebook.id, ['hold x', `print('after ${index}')`]);
      cleanup.push(() => connection.disconnect());
      notebooks.push(notebook.id);
      docs.push(connection.document);
    }
    // Process A runs a held cell in each notebook, then dies without a word (its lease stops renewing).
    const crashed = await process('web-a', 1500);
    for (const notebookId of notebooks)
      await crashed.service.run({
        notebookId,
        workspaceId: workspace.id,
        target: { kind: 'all' },
        user: alice,
      });
    await waitFor(() => gateway.holding === notebooks.length, 'every first cell runs');
    await crashed.service.detach();
    await crashed.lease.stop();
    // Process D is alive and keeps its own kernel.
    const live = await process('web-d');
    const own = await db.notebook.create({ data: { workspaceId: workspace.id, name: 'own' } });
    const ownConnection = await seedNotebook(collab, own.id, ['hold y']);
    cleanup.push(() => ownConnection.disconnect());
    await live.service.run({
      notebookId: own.id,
      workspaceId: workspace.id,
      target: { kind: 'all' },
      user: alice,
    });
    await waitFor(() => gateway.holding === notebooks.length + 1, "the live process's cell runs");
    await new Promise((resolve) => setTimeout(resolve, 2000));

    const [b, c] = [await process('web-b'), await process('web-c')];
    const connectsBefore = gateway.connected.length;
    const [fromB, fromC] = await Promise.all([b.service.resume(), c.service.resume()]);
    const resumed = [...fromB, ...fromC].map((result) => result.notebookId);
    expect(resumed.sort()).toEqual([...notebooks].sort());
    expect([...fromB, ...fromC].every((result) => result.outcome === 'attached')).toBe(true);
    // Each kernel was connected to once more, by one process; the live process's kernel by nobody.
    const connectedNow = gateway.connected.slice(connectsBefore);
    expect(new Set(connectedNow).size).toBe(connectedNow.length);
    expect(connectedNow.length).toBe(notebooks.length);
    expect((await db.notebookKernel.findUnique({ where: { notebookId: own.id } }))?.ownerId).toBe('web-d');

    // The held cells finish once; each queue goes on in the process that took it over.
    gateway.release();
    for (const [index, doc] of docs.entries())
      await waitFor(
        () => cellView(doc, 'c1').text === `print('after ${index}')\n`,
        `notebook ${index} goes on`,
      );
    expect(gateway.executed.filter((code) => code.startsWith('print')).sort()).toEqual(
      notebooks.map((_, index) => `print('after ${index}')`).sort(),
    );
    expect(errors).toEqual([]);
  });
  it('a running process takes over the kernels of one that dies after it started, once its lease runs out', async () => {
    const { db } = database;
    const workspace = await db.workspace.create({ data: { name: 'Lab', slug: `lab-${randomUUID()}` } });
    const collab = createCollabServer({ onError: () => {}, unloadDelayMs: 0 });
    cleanup.push(() => collab.close());
    const gateway = new FakeGateway();
    // Both processes are up; the survivor's start-up resume finds nothing to take.
    const dying = await webProcess(collab, gateway, 'web-dying', 1500);
    const survivor = await webProcess(collab, gateway, 'web-survivor');
    expect(await survivor.service.resume()).toEqual([]);
    const takeover = startKernelTakeover(survivor.service, { intervalMs: 300 });
    cleanup.push(() => takeover.stop());

    const notebook = await db.notebook.create({ data: { workspaceId: workspace.id, name: 'nb' } });
    const connection = await seedNotebook(collab, notebook.id, ['hold x', "print('after')"]);
    cleanup.push(() => connection.disconnect());
    await dying.service.run({
      notebookId: notebook.id,
      workspaceId: workspace.id,
      target: { kind: 'all' },
      user: alice,
    });
    await waitFor(() => gateway.holding === 1, 'the first cell runs');
    // Alive: its kernel stays its own, however often the survivor looks.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect((await db.notebookKernel.findUnique({ where: { notebookId: notebook.id } }))?.ownerId).toBe(
      'web-dying',
    );
    // It dies without a word; nobody restarts it. The survivor takes the kernel over by itself.
    await dying.service.detach();
    await dying.lease.stop();
    const owner = async () =>
      (await db.notebookKernel.findUnique({ where: { notebookId: notebook.id } }))?.ownerId;
    const deadline = Date.now() + 15_000;
    while ((await owner()) !== 'web-survivor') {
      if (Date.now() > deadline) throw new Error('the survivor never took the kernel over');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    gateway.release();
    await waitFor(() => cellView(connection.document, 'c1').text === "print('after')\n", 'the queue goes on');
    expect(gateway.executed.filter((code) => code.startsWith('print'))).toEqual(["print('after')"]);
    expect(errors).toEqual([]);
  });
});
