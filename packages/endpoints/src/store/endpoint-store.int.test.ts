import { randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '@kiln/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEndpointStore } from './endpoint-store.ts';

// Postgres: creating endpoints against the plan's limit while other work holds the workspace's row,
// and many creates at once.
let database: TestDatabase;
const actor = { userId: null };

beforeAll(async () => {
  database = await createTestDatabase({ max: 12 });
});

afterAll(async () => {
  await database?.drop();
});

async function workspace(plan: 'STARTER' | 'TEAM') {
  const slug = `ep-${randomUUID().slice(0, 8)}`;
  return database.db.workspace.create({ data: { name: slug, slug, plan } });
}

describe('endpoint store', () => {
  it('creates an endpoint while a placement in its workspace holds the row for longer than 5 s', async () => {
    const ws = await workspace('STARTER');
    const store = createEndpointStore({ db: database.db });
    // What a kernel's placement does in the scheduler: lock the workspace against other placements and
    // insert a row that references it, then take its time (a slow node, a loaded machine).
    let creating: Promise<{ view?: unknown; error?: unknown }> | undefined;
    await database.db.$transaction(
      async (tx) => {
        await tx.$queryRaw`SELECT plan::text FROM "Workspace" WHERE id = ${ws.id}::uuid FOR NO KEY UPDATE`;
        await tx.auditLog.create({ data: { action: 'placement', workspaceId: ws.id } });
        creating = store.create(ws.id, actor, { label: 'waits' }).then(
          (view) => ({ view }),
          (error: unknown) => ({ error }),
        );
        await new Promise((resolve) => setTimeout(resolve, 6_000));
      },
      { timeout: 60_000 },
    );
    // The user gets the endpoint once the placement is done, not a "transaction expired" error.
    expect(await creating).toEqual({ view: expect.objectContaining({ label: 'waits', workspaceId: ws.id }) });
    expect((await store.list(ws.id)).map((endpoint) => endpoint.label)).toEqual(['waits']);
  });

  it('lets exactly the plan limit of concurrent creates through, and a delete makes room again', async () => {
    const ws = await workspace('STARTER');
    const store = createEndpointStore({ db: database.db, limits: { STARTER: 3 } });
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => store.create(ws.id, actor, { label: `e${i}` })),
    );
    const created = results.filter((result) => result.status === 'fulfilled');
    const refused = results.flatMap((result) => (result.status === 'rejected' ? [result.reason] : []));
    expect(created).toHaveLength(3);
    expect(refused).toHaveLength(7);
    for (const reason of refused)
      expect(reason).toMatchObject({
        code: 'QUOTA_EXCEEDED',
        message: expect.stringContaining('This workspace has 3 of 3 web endpoints its starter plan allows'),
      });
    const listed = await store.list(ws.id);
    expect(listed).toHaveLength(3);

    const [first] = listed;
    await store.remove(ws.id, first?.id as string, actor);
    await expect(store.create(ws.id, actor, { label: 'after-delete' })).resolves.toMatchObject({
      label: 'after-delete',
    });
    await expect(store.create(ws.id, actor, { label: 'one-too-many' })).rejects.toMatchObject({
      code: 'QUOTA_EXCEEDED',
    });
    expect(await store.list(ws.id)).toHaveLength(3);
  });

  it('gives one of several concurrent creates of a label the endpoint and the others a conflict, leaving the limit untouched', async () => {
    const ws = await workspace('STARTER');
    const store = createEndpointStore({ db: database.db, limits: { STARTER: 2 } });
    const results = await Promise.allSettled(
      Array.from({ length: 6 }, () => store.create(ws.id, actor, { label: 'same' })),
    );
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    for (const result of results.filter((r) => r.status === 'rejected'))
      expect(result.reason).toMatchObject({
        code: 'CONFLICT',
        message: 'An endpoint labelled "same" already exists in this workspace',
      });
    // The refused creates took no place: the second of two allowed endpoints can still be made.
    await expect(store.create(ws.id, actor, { label: 'other' })).resolves.toMatchObject({ label: 'other' });
    await expect(store.create(ws.id, actor, { label: 'third' })).rejects.toMatchObject({
      code: 'QUOTA_EXCEEDED',
    });
  });

  it('refuses a create in a workspace that does not exist', async () => {
    const store = createEndpointStore({ db: database.db });
    await expect(store.create(randomUUID(), actor, { label: 'nowhere' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });
});
