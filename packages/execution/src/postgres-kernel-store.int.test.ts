import { randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '@kiln/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresKernelStore } from './postgres-kernel-store.ts';
import type { KernelRecord } from './types.ts';

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.drop();
});

async function createNotebook(): Promise<{ notebookId: string; workspaceId: string }> {
  const { db } = database;
  const workspace = await db.workspace.create({ data: { name: 'Lab', slug: `lab-${randomUUID()}` } });
  const notebook = await db.notebook.create({ data: { workspaceId: workspace.id, name: 'nb' } });
  return { notebookId: notebook.id, workspaceId: workspace.id };
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
    await createPostgresKernelStore(database.db, { gatewayUrl: 'http://gw-a' }).save(running);

    const restarted = createPostgresKernelStore(database.db, { gatewayUrl: 'http://gw-a' });
    expect(await restarted.list()).toEqual([running]);
    // Another gateway's kernels are not this process's to take over.
    expect(await createPostgresKernelStore(database.db, { gatewayUrl: 'http://gw-b' }).list()).toEqual([]);

    const { resources: _, ...idle } = { ...running, running: null, queue: [] };
    await restarted.save(idle);
    expect(await restarted.list()).toEqual([idle]);
    await restarted.remove(ids.notebookId);
    expect(await restarted.list()).toEqual([]);
  });

  it('forgets the kernel of a deleted notebook', async () => {
    const ids = await createNotebook();
    const store = createPostgresKernelStore(database.db, { gatewayUrl: 'http://gw-c' });
    await store.save({ ...ids, kernelId: 'k', sessionId: 's', running: null, queue: [] });
    await database.db.notebook.delete({ where: { id: ids.notebookId } });
    expect(await store.list()).toEqual([]);
  });
});
