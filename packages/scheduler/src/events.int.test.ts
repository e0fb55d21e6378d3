import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { clusterPerTest, type TestCluster } from '../test/cluster.ts';
import type { ContainerTransition } from './types.ts';

const clusters = clusterPerTest();

/** Reads every event after `cursor`, a page at a time, as a billing consumer would. */
async function consume(c: TestCluster, cursor: string | null, pageSize: number) {
  const events: ContainerTransition[] = [];
  let at = cursor;
  for (;;) {
    const page = await c.scheduler.eventsAfter(at, pageSize);
    events.push(...page.events);
    if (page.events.length === 0) return { events, cursor: page.cursor };
    at = page.cursor;
  }
}

describe('container events', () => {
  it('gives the hook and the event log the same changes, numbered per container, with what was held', async () => {
    const hooked: ContainerTransition[] = [];
    const cluster = await clusters.start({ onTransition: (t) => void hooked.push(t) });
    const c = cluster;
    await c.node('n', [{ type: 'H100', count: 2 }]);
    const ws = await c.workspace();
    const user = '7d8a4a5e-3f0c-4e86-9a35-3b8b1f2a9c10';
    const kernel = await c.scheduler.request({
      workspaceId: ws,
      kind: 'kernel',
      ownerId: 'notebook-1',
      requestedById: user,
      resources: { cpu: 2, memoryMiB: 8192, gpu: 'H100:2' },
    });
    const waiting = await c.scheduler.request({
      workspaceId: ws,
      kind: 'endpoint_replica',
      ownerId: 'endpoint-1',
      resources: { cpu: 1, memoryMiB: 1024, gpu: 'H100' },
    });
    await c.scheduler.markRunning(kernel.id);
    await c.scheduler.hibernate(kernel.id);
    await c.scheduler.markRunning(waiting.id);
    await c.scheduler.stop(waiting.id, { code: 'exited', reason: 'replica scaled down' });
    await c.scheduler.close();

    const { events, cursor } = await consume(c, null, 2);
    expect(events).toEqual(hooked);
    expect(events.filter((e) => e.containerId === kernel.id).map((e) => [e.seq, e.from, e.to])).toEqual([
      [1, null, 'starting'],
      [2, 'starting', 'running'],
      [3, 'running', 'hibernated'],
    ]);
    expect(events.filter((e) => e.containerId === waiting.id).map((e) => [e.seq, e.from, e.to])).toEqual([
      [1, null, 'queued'],
      [2, 'queued', 'starting'],
      [3, 'starting', 'running'],
      [4, 'running', 'stopped'],
    ]);
    const running = events.find((e) => e.containerId === kernel.id && e.to === 'running');
    expect(running).toMatchObject({
      workspaceId: ws,
      kind: 'kernel',
      ownerId: 'notebook-1',
      requestedById: user,
      nodeId: 'n',
      cpu: 2,
      memoryMiB: 8192,
      gpu: { type: 'H100', count: 2, indices: [0, 1] },
    });
    // From hibernation on it holds no GPU, which is what billing must see.
    expect(events.find((e) => e.to === 'hibernated')?.gpu).toBeNull();
    expect(events.find((e) => e.to === 'stopped')).toMatchObject({
      code: 'exited',
      reason: 'replica scaled down',
      gpu: null,
    });
    for (let i = 1; i < events.length; i++) {
      const [before, after] = [events[i - 1], events[i]];
      if (before && after) expect(after.at.getTime()).toBeGreaterThanOrEqual(before.at.getTime());
    }
    expect((await c.scheduler.eventsAfter(cursor)).events).toEqual([]);
    await expect(c.scheduler.eventsAfter('not-a-cursor')).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
  });

  it('never skips an event whose transaction commits after later ones were read', async () => {
    const cluster = await clusters.start();
    const c = cluster;
    await c.node('n', []);
    const ws = await c.workspace();
    const ask = (owner: string) =>
      c.scheduler.request({
        workspaceId: ws,
        kind: 'sandbox',
        ownerId: owner,
        resources: { cpu: 1, memoryMiB: 512 },
      });
    const early = await ask('early');
    const start = await consume(c, null, 100);
    expect(start.events).toHaveLength(1);

    // A slow writer: its transaction starts (and takes its id) before the others, and commits after.
    const slow = new pg.Client({ connectionString: clusters.database.url });
    await slow.connect();
    try {
      await slow.query('BEGIN');
      await slow.query('SELECT pg_current_xact_id()');
      const late = await ask('late');
      await c.scheduler.markRunning(late.id);
      // The later changes are committed, but not handed out while the slow transaction is open.
      const held = await c.scheduler.eventsAfter(start.cursor);
      expect(held.events).toEqual([]);
      await slow.query(
        `INSERT INTO "ContainerEvent" ("containerId", seq, "workspaceId", kind, "ownerId", "toState", "fromState", at, "gpuCount", "gpuIndices", cpu, "memoryMiB")
         VALUES ($1, 2, $2, 'sandbox', 'early', 'running', 'starting', clock_timestamp(), 0, '{}', 1, 512)`,
        [early.id, ws],
      );
      await slow.query('COMMIT');
    } finally {
      await slow.end();
    }
    const rest = await consume(c, start.cursor, 1);
    expect(rest.events.map((e) => `${e.ownerId}:${e.to}`)).toEqual([
      'early:running',
      'late:starting',
      'late:running',
    ]);

    // An open transaction in another database of the same server holds nothing back.
    const elsewhere = new pg.Client({ connectionString: 'postgresql://postgres@127.0.0.1:5432/postgres' });
    await elsewhere.connect();
    try {
      await elsewhere.query('BEGIN');
      await elsewhere.query('SELECT pg_current_xact_id()');
      const later = await ask('later');
      const seen = await c.scheduler.eventsAfter(rest.cursor);
      expect(seen.events.map((e) => e.containerId)).toEqual([later.id]);
    } finally {
      await elsewhere.query('ROLLBACK');
      await elsewhere.end();
    }
  });

  it('writes each container’s changes in order when many happen at once', async () => {
    const cluster = await clusters.start();
    const c = cluster;
    await c.node('n', [{ type: 'L4', count: 8 }], { cpu: 64 });
    const ws = await c.workspace('TEAM');
    const containers = await Promise.all(
      Array.from({ length: 12 }, (_, n) =>
        c.scheduler.request({
          workspaceId: ws,
          kind: 'kernel',
          ownerId: `nb-${n}`,
          resources: { cpu: 1, memoryMiB: 512, gpu: 'L4' },
        }),
      ),
    );
    await Promise.all(
      containers.map(async (container) => {
        const now = await c.scheduler.get(container.id);
        if (now.state === 'starting') {
          await c.scheduler.markRunning(container.id);
          await c.scheduler.stop(container.id);
        }
      }),
    );
    await c.scheduler.close();
    const { events } = await consume(c, null, 7);
    const byContainer = new Map<string, ContainerTransition[]>();
    for (const event of events)
      byContainer.set(event.containerId, [...(byContainer.get(event.containerId) ?? []), event]);
    expect(byContainer.size).toBe(12);
    for (const list of byContainer.values()) {
      expect(list.map((e) => e.seq)).toEqual(list.map((_, i) => i + 1));
      for (let i = 1; i < list.length; i++) expect(list[i]?.from).toBe(list[i - 1]?.to);
    }
    // Every queued request was placed as GPUs freed up, and ended.
    expect(events.filter((e) => e.to === 'stopped' || e.to === 'starting').length).toBeGreaterThanOrEqual(12);
  });
});
