import { randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '@kiln/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresKernelStore } from './postgres-kernel-store.ts';
import type { KernelRecord } from './types.ts';
import { createWebProcessLease, type WebProcessLease } from './web-process-lease.ts';

let database: TestDatabase;
const leases: WebProcessLease[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  for (const lease of leases) await lease.stop();
  await database?.drop();
});

async function createNotebook(): Promise<{ notebookId: string; workspaceId: string }> {
  const { db } = database;
  const workspace = await db.workspace.create({ data: { name: 'Lab', slug: `lab-${randomUUID()}` } });
  const notebook = await db.notebook.create({ data: { workspaceId: workspace.id, name: 'nb' } });
  return { notebookId: notebook.id, workspaceId: workspace.id };
}

/** A live web process: its lease heartbeats until the test ends. */
async function liveProcess(id = `web-${randomUUID().slice(0, 8)}`) {
  const lease = createWebProcessLease(database.db, { id, ttlMs: 60_000 });
  await lease.start();
  leases.push(lease);
  return { id, store: createPostgresKernelStore(database.db, { ownerId: id }) };
}

const ada = { userId: 'u-ada', name: 'Ada' };

describe('Postgres kernel store', () => {
  it('gives a restarted process the kernel, running cell and queue, and clears the running cell when it ends', async () => {
    const ids = await createNotebook();
    const running: KernelRecord = {
      ...ids,
      kernelId: 'k-1',
      sessionId: 's-1',
      running: { cellId: 'c0', requestId: 'r', by: ada, queuedAt: 1, startedAt: 2, msgId: 'm-1' },
      queue: [{ cellId: 'c1', requestId: 'r', by: ada, queuedAt: 1 }],
      resources: { cpu: 2, memoryMiB: 1024 },
    };
    const first = await liveProcess();
    const other = await liveProcess();
    await first.store.save(running);

    // The same process restarted (same id) takes its kernel back at once.
    const restarted = createPostgresKernelStore(database.db, { ownerId: first.id });
    expect(await restarted.list()).toEqual([running]);
    // Another live process's kernels are not this process's to take over.
    expect(await other.store.list()).toEqual([]);
    await expect(other.store.save({ ...running, kernelId: 'k-2' })).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    await other.store.remove(ids.notebookId);
    expect(await restarted.list()).toEqual([running]);

    const { resources: _, ...idle } = { ...running, running: null, queue: [] };
    await restarted.save(idle);
    expect(await restarted.list()).toEqual([idle]);
    await restarted.remove(ids.notebookId);
    expect(await restarted.list()).toEqual([]);
  });

  it('forgets the kernel of a deleted notebook', async () => {
    const ids = await createNotebook();
    const { store } = await liveProcess();
    await store.save({ ...ids, kernelId: 'k', sessionId: 's', running: null, queue: [] });
    await database.db.notebook.delete({ where: { id: ids.notebookId } });
    expect(await store.list()).toEqual([]);
  });

  it('hands the kernels of a process whose lease ran out to exactly one of two processes claiming at once', async () => {
    const crashed = `web-crashed-${randomUUID().slice(0, 8)}`;
    const lease = createWebProcessLease(database.db, { id: crashed, ttlMs: 60_000, heartbeatMs: 60_000 });
    await lease.start();
    const store = createPostgresKernelStore(database.db, { ownerId: crashed });
    const notebooks = await Promise.all(Array.from({ length: 40 }, () => createNotebook()));
    for (const [index, ids] of notebooks.entries())
      await store.save({ ...ids, kernelId: `k-${index}`, sessionId: 's', running: null, queue: [] });
    // Rows written before owners existed (and by nobody since) are anyone's too.
    const unowned = await createNotebook();
    await database.db.notebookKernel.create({
      data: { ...unowned, gatewayUrl: 'scheduler', kernelId: 'k-unowned', sessionId: 's', queue: [] },
    });

    const [one, two] = [await liveProcess(), await liveProcess()];
    // While the crashed process's lease runs, nobody takes its kernels.
    expect([...(await one.store.list()), ...(await two.store.list())]).toEqual([
      expect.objectContaining({ kernelId: 'k-unowned' }),
    ]);
    // It dies: no more heartbeats, and its lease runs out (as a minute of silence would make it).
    await lease.stop();
    await database.db.$executeRaw`
      UPDATE "WebProcessLease" SET "expiresAt" = now() AT TIME ZONE 'UTC' - interval '1 second' WHERE id = ${crashed}`;

    const [a, b] = await Promise.all([one.store.list(), two.store.list()]);
    const claimed = [...a, ...b].map((record) => record.kernelId);
    // Every kernel once, none twice (the unowned one stays with whoever took it first).
    expect(new Set(claimed).size).toBe(claimed.length);
    expect(claimed.sort()).toEqual(['k-unowned', ...notebooks.map((_, index) => `k-${index}`)].sort());
    // What each took stays its own: the other process's next list does not return it.
    expect((await one.store.list()).map((r) => r.kernelId).sort()).toEqual(a.map((r) => r.kernelId).sort());
  });
});
