import { randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '@kiln/db/testing';
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { containerEvents, createEventLog } from '../../test/synthetic-events.ts';
import { createMeter } from './meter.ts';
import type { MeteredState } from './types.ts';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase({ max: 4 });
});
afterAll(() => database?.drop());
beforeEach(async () => {
  await database.db.$executeRaw`TRUNCATE "UsageSlice", "BillingCursor", "PriceVersion", "Node" CASCADE`;
});

async function billedMs(containerId: string): Promise<number> {
  const rows = await database.db.$queryRaw<{ ms: string | null }[]>`
    SELECT sum((extract(epoch FROM ("endAt" - "startAt")) * 1000)::bigint)::text AS ms
    FROM "UsageSlice" WHERE "containerId" = ${containerId}::uuid`;
  return Number(rows[0]?.ms ?? 0);
}

const T0 = Date.UTC(2026, 10, 1);
const small = { cpu: 0.5, memoryMiB: 1024, gpu: null };

describe('usage ledger from container state changes', () => {
  it('bills random container lifetimes to the second, however events are paged and replayed', async () => {
    const lifetime = fc.array(
      fc.record({
        // Running for up to 10 h, then hibernated or stopped; hibernated kernels resume later.
        runMs: fc.integer({ min: 0, max: 10 * 3600_000 }),
        restMs: fc.integer({ min: 1, max: 3600_000 }),
        hibernate: fc.boolean(),
      }),
      { minLength: 1, maxLength: 5 },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(lifetime, { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 1, max: 7 }),
        async (containers, pageSize) => {
          await database.db.$executeRaw`TRUNCATE "UsageSlice", "BillingCursor", "UsageDaily"`;
          const log = createEventLog();
          const workspaceId = randomUUID();
          const truth = new Map<string, number>();
          for (const periods of containers) {
            const containerId = randomUUID();
            let t = T0 + Math.floor(Math.random() * 1000);
            const changes: { to: MeteredState; at: Date }[] = [{ to: 'starting', at: new Date(t) }];
            let real = 0;
            periods.forEach((period, index) => {
              t += 1200;
              changes.push({ to: 'running', at: new Date(t) });
              t += period.runMs;
              real += period.runMs;
              const last = index === periods.length - 1;
              changes.push({ to: last || !period.hibernate ? 'stopped' : 'hibernated', at: new Date(t) });
              if (last || !period.hibernate) return;
              t += period.restMs;
              changes.push({ to: 'starting', at: new Date(t) });
            });
            const stop = changes.findIndex((change) => change.to === 'stopped');
            log.events.push(
              ...containerEvents(workspaceId, changes.slice(0, stop + 1), small, { containerId }),
            );
            truth.set(
              containerId,
              changes.slice(0, stop + 1).reduce((sum, change, i, all) => {
                const next = all[i + 1];
                return change.to === 'running' && next
                  ? sum + (next.at.getTime() - change.at.getTime())
                  : sum;
              }, 0),
            );
            expect(truth.get(containerId)).toBeLessThanOrEqual(real);
          }
          const meter = createMeter({ db: database.db, events: log.source, pageSize });
          await meter.sync();
          // A second consumer starting from scratch (a lost cursor) inserts nothing new.
          await database.db.billingCursor.deleteMany();
          await meter.sync();
          for (const [containerId, ms] of truth) {
            expect(Math.abs((await billedMs(containerId)) - ms)).toBeLessThan(1000);
          }
          // The daily rollup (one grouped upsert per ingest statement) holds every slice exactly once.
          const [rollup] = await database.db.$queryRaw<{ daily: string | null; slices: string | null }[]>`
            SELECT (SELECT sum(ms)::text FROM "UsageDaily" WHERE "workspaceId" = ${workspaceId}::uuid) AS daily,
              (SELECT sum((extract(epoch FROM ("endAt" - "startAt")) * 1000)::bigint)::text FROM "UsageSlice"
               WHERE "workspaceId" = ${workspaceId}::uuid) AS slices`;
          expect(rollup?.daily ?? '0').toBe(rollup?.slices ?? '0');
        },
      ),
      { numRuns: 25 },
    );
  });

  it('never bills a hibernated kernel, and a resumed one opens a new slice', async () => {
    const log = createEventLog();
    const ws = randomUUID();
    const at = (s: number) => new Date(T0 + s * 1000);
    const events = containerEvents(
      ws,
      [
        { to: 'starting', at: at(0) },
        { to: 'running', at: at(1) },
        { to: 'hibernated', at: at(61) },
        { to: 'starting', at: at(3600) },
        { to: 'running', at: at(3601) },
        { to: 'stopped', at: at(3631) },
      ],
      small,
    );
    log.events.push(...events);
    await createMeter({ db: database.db, events: log.source }).sync();
    const slices = await database.db.usageSlice.findMany({ orderBy: { startAt: 'asc' } });
    const seconds = (at: Date | null) => ((at?.getTime() ?? Number.NaN) - T0) / 1000;
    expect(slices.map((s) => [seconds(s.startAt), seconds(s.endAt), s.endReason])).toEqual([
      [1, 61, 'hibernated'],
      [3601, 3631, 'stopped'],
    ]);
    expect(await billedMs(events[0]?.containerId ?? '')).toBe(90_000);
  });

  it('closes a lost container at the last heartbeat of its node, not when the loss was noticed', async () => {
    const log = createEventLog();
    const ws = randomUUID();
    const at = (s: number) => new Date(T0 + s * 1000);
    await database.db.node.create({
      data: {
        id: 'node-a',
        url: 'http://127.0.0.1:1',
        cpu: 8,
        memoryMiB: 8192,
        gpuSource: 'none',
        registeredAt: at(0),
        heartbeatAt: at(100),
      },
    });
    const events = containerEvents(
      ws,
      [
        { to: 'starting', at: at(0) },
        { to: 'running', at: at(10) },
        { to: 'lost', at: at(130), code: 'node_lost' },
      ],
      small,
    );
    log.events.push(...events);
    await createMeter({ db: database.db, events: log.source }).sync();
    expect(await billedMs(events[0]?.containerId ?? '')).toBe(90_000);
  });

  it('ends a container its crashed node came back without at its last heartbeat, not at the restart', async () => {
    const log = createEventLog();
    const ws = randomUUID();
    const at = (s: number) => new Date(T0 + s * 1000);
    // The node's row already belongs to its new process: registered again at 200 s, not beaten since
    // (it stops the kernels it lost before its first beat).
    await database.db.node.create({
      data: {
        id: 'node-a',
        url: 'http://127.0.0.1:1',
        cpu: 8,
        memoryMiB: 8192,
        gpuSource: 'none',
        registeredAt: at(200),
        heartbeatAt: at(200),
      },
    });
    const opened = containerEvents(
      ws,
      [
        { to: 'starting', at: at(0) },
        { to: 'running', at: at(10) },
        { to: 'stopped', at: at(202), code: 'node_lost' },
      ],
      small,
    );
    log.events.push(...opened.slice(0, 2));
    const meter = createMeter({ db: database.db, events: log.source });
    await meter.sync();
    // The last heartbeat the old process gave, carried into the slice before it was killed.
    await database.db.usageSlice.updateMany({ data: { heartbeatAt: at(95) } });
    // The new process's beats are not carried into the lost kernel's slice while its stop is on its way.
    expect(await meter.heartbeat()).toMatchObject({ extended: 0 });
    log.events.push(...opened.slice(2));
    await meter.sync();
    const containerId = opened[0]?.containerId ?? '';
    expect(await billedMs(containerId)).toBe(85_000);
  });

  it('writes the same slices and daily rollup whether a period opens and closes in one page or two', async () => {
    const at = (s: number) => new Date(T0 + s * 1000);
    await database.db.node.create({
      data: {
        id: 'node-a',
        url: 'http://127.0.0.1:1',
        cpu: 8,
        memoryMiB: 8192,
        gpuSource: 'none',
        registeredAt: at(0),
        heartbeatAt: at(100),
      },
    });
    const histories: { to: MeteredState; at: Date; code?: string }[][] = [
      [
        { to: 'starting', at: at(0) },
        { to: 'running', at: at(10) },
        { to: 'hibernated', at: at(70) },
        { to: 'starting', at: at(80_000) },
        { to: 'running', at: at(80_001) },
        { to: 'stopped', at: at(90_000) },
      ],
      [
        { to: 'starting', at: at(0) },
        { to: 'running', at: at(10) },
        { to: 'lost', at: at(130), code: 'node_lost' },
      ],
      [
        { to: 'starting', at: at(0) },
        { to: 'running', at: at(10) },
        { to: 'stopped', at: at(202), code: 'node_lost' },
      ],
    ];
    const gpu = { cpu: 2, memoryMiB: 4096, gpu: { type: 'H100', count: 1 } };
    const ingest = async (pageSize: number) => {
      const log = createEventLog();
      const workspaceId = randomUUID();
      for (const history of histories) log.events.push(...containerEvents(workspaceId, history, gpu));
      await createMeter({
        db: database.db,
        events: log.source,
        pageSize,
        cursorName: `pages-${pageSize}`,
      }).sync();
      const slices = await database.db.usageSlice.findMany({
        where: { workspaceId },
        orderBy: [{ startAt: 'asc' }, { endAt: 'asc' }],
      });
      const daily = await database.db.usageDaily.findMany({
        where: { workspaceId },
        orderBy: [{ day: 'asc' }],
      });
      return {
        slices: slices.map((s) => [s.startAt, s.heartbeatAt, s.endAt, s.endReason, s.gpuRateFemto]),
        daily: daily.map((d) => [d.day, d.ms, d.gpuUnits, d.gpuFemto.toString(), d.cpuFemto.toString()]),
      };
    };
    const onePerPage = await ingest(1);
    const allInOne = await ingest(500);
    expect(allInOne).toEqual(onePerPage);
    // Restarted: nothing (no heartbeat reached its slice); hibernated 60 s; lost at its node's last
    // heartbeat (90 s); resumed 9,999 s.
    expect(onePerPage.slices.map((s) => s[3])).toEqual(['stopped', 'hibernated', 'lost', 'stopped']);
    expect(onePerPage.daily.reduce((sum, d) => sum + Number(d[1]), 0)).toBe(60_000 + 9_999_000 + 90_000);
  });

  it('closes a slice orphaned by a dead process at its last heartbeat, once', async () => {
    const log = createEventLog();
    const ws = randomUUID();
    const now = Date.now();
    const nodeHeartbeat = new Date(now - 120_000);
    await database.db.node.create({
      data: {
        id: 'node-b',
        url: 'http://127.0.0.1:1',
        cpu: 8,
        memoryMiB: 8192,
        gpuSource: 'none',
        registeredAt: new Date(now - 600_000),
        heartbeatAt: nodeHeartbeat,
      },
    });
    const events = containerEvents(
      ws,
      [
        { to: 'starting', at: new Date(now - 300_000) },
        { to: 'running', at: new Date(now - 299_000) },
      ],
      small,
      { nodeId: 'node-b' },
    );
    log.events.push(...events);
    const meter = createMeter({ db: database.db, events: log.source, staleAfterMs: 45_000 });
    await meter.sync();
    const result = await meter.heartbeat();
    expect(result).toMatchObject({ extended: 1, orphaned: 1 });
    const containerId = events[0]?.containerId ?? '';
    expect(await billedMs(containerId)).toBe(179_000);
    // Running the sweep again (another process restarting) changes nothing.
    expect(await meter.heartbeat()).toMatchObject({ extended: 0, orphaned: 0 });
    expect(await billedMs(containerId)).toBe(179_000);
  });

  it('applies several pages per transaction, and a failure in one of them rolls all of them back with the cursor', async () => {
    const log = createEventLog();
    const ws = randomUUID();
    const truth = new Map<string, number>();
    for (let i = 0; i < 10; i++) {
      const start = T0 + i * 10_000;
      const events = containerEvents(
        ws,
        [
          { to: 'running', at: new Date(start) },
          { to: 'stopped', at: new Date(start + 5_000 + i) },
        ],
        small,
      );
      log.events.push(...events);
      truth.set(events[0]?.containerId ?? '', 5_000 + i);
    }
    log.events.sort((a, b) => a.at.getTime() - b.at.getTime());
    // Pages of 2 events, 4 pages per transaction: the source fails on the third page it is asked for.
    let calls = 0;
    const failing = createMeter({
      db: database.db,
      pageSize: 2,
      pagesPerTransaction: 4,
      events: async (cursor, limit) => {
        calls += 1;
        if (calls === 3) throw new Error('event source went away');
        return log.source(cursor, limit);
      },
    });
    await expect(failing.sync()).rejects.toThrow('event source went away');
    // The two pages applied before the failure were in the same transaction: nothing of them is kept.
    expect(await database.db.usageSlice.count({ where: { workspaceId: ws } })).toBe(0);
    expect(await database.db.billingCursor.count()).toBe(0);
    const meter = createMeter({ db: database.db, pageSize: 2, pagesPerTransaction: 4, events: log.source });
    expect(await meter.sync()).toBe(20);
    expect(await meter.sync()).toBe(0);
    for (const [containerId, ms] of truth) expect(await billedMs(containerId)).toBe(ms);
  });
});
