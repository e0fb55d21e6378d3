import { randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '@kiln/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEndpointStore } from './endpoint-store.ts';
import { createRequestLog, type RequestEntry } from './request-log.ts';

// Postgres: the request log's rows, written in batches, read back as the endpoint page shows them.
let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase({ max: 2 });
});

afterAll(async () => {
  await database?.drop();
});

describe('request log', () => {
  it('keeps every field of a batch of calls as it was, error text and missing values included', async () => {
    const { db } = database;
    const slug = `log-${randomUUID().slice(0, 8)}`;
    const ws = await db.workspace.create({ data: { name: 'log', slug, plan: 'TEAM' } });
    const endpoint = await createEndpointStore({ db }).create(ws.id, { userId: null }, { label: 'logged' });
    const log = createRequestLog({ db, flushMs: 60_000 });
    const base = { endpointId: endpoint.id, workspaceId: ws.id, replicaId: null, scheduleId: null };
    const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 12, 0, s));
    // Text that array literals and SQL quoting get wrong when built by hand.
    const awkward = 'Traceback: "quoted" \'single\' \\ back, {braces}, NULL\nline two — ünïcode';
    const entries: RequestEntry[] = [
      {
        ...base,
        id: randomUUID(),
        versionId: null,
        at: at(1),
        method: 'POST',
        status: 200,
        latencyMs: 12,
        costNanos: 180n,
        error: null,
      },
      {
        ...base,
        id: randomUUID(),
        versionId: null,
        at: at(2),
        method: 'GET',
        status: 500,
        latencyMs: 3,
        costNanos: 0n,
        error: awkward,
        replicaId: 'replica-1',
      },
      {
        ...base,
        id: randomUUID(),
        versionId: null,
        at: at(3),
        method: 'POST',
        status: 400,
        latencyMs: 7,
        costNanos: 9_007_199_254_740_993n,
        error: 'NULL',
      },
    ];
    for (const entry of entries) log.record(entry);
    await log.flush();
    const recent = await log.recent(ws.id, endpoint.id);
    expect(recent).toEqual(
      [...entries].reverse().map(({ endpointId: _e, workspaceId: _w, costNanos, ...entry }) => ({
        ...entry,
        costNanos: Number(costNanos),
      })),
    );
    const stats = await log.stats(ws.id, endpoint.id, at(0));
    expect(stats).toMatchObject({ count: 3, errors: 1 });
  });
});
