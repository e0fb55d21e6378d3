import { createMeter } from '@kiln/billing';
import { createTestDatabase, type TestDatabase } from '@kiln/db/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestCluster, type TestCluster } from '../test/cluster.ts';

// Billing meters from this package's events; these tests hold the two together on real Postgres.
let database: TestDatabase;
let cluster: TestCluster | undefined;
beforeAll(async () => {
  database = await createTestDatabase({ max: 6 });
});
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});
afterAll(() => database?.drop());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function billed(containerId: string): Promise<{ ms: number; reasons: (string | null)[] }> {
  const slices = await database.db.usageSlice.findMany({
    where: { containerId },
    orderBy: { startAt: 'asc' },
  });
  const ms = slices.reduce((sum, s) => sum + ((s.endAt?.getTime() ?? Number.NaN) - s.startAt.getTime()), 0);
  return { ms, reasons: slices.map((s) => s.endReason) };
}

describe('the usage ledger over the scheduler', () => {
  it('bills exactly the running time of a kernel, not its queue, start or hibernation', async () => {
    cluster = await createTestCluster(database);
    await database.db.$executeRaw`TRUNCATE "UsageSlice", "BillingCursor"`;
    await cluster.node('gpu-node', [{ type: 'H100', count: 2 }]);
    const ws = await cluster.workspace('TEAM');
    const { scheduler } = cluster;
    const meter = createMeter({
      db: database.db,
      events: (cursor, limit) => scheduler.eventsAfter(cursor, limit),
    });
    const container = await scheduler.request({
      workspaceId: ws,
      kind: 'kernel',
      ownerId: 'nb-1',
      resources: { cpu: 2, memoryMiB: 4096, gpu: 'H100' },
    });
    await sleep(300);
    await scheduler.markRunning(container.id);
    await sleep(700);
    await meter.sync();
    await scheduler.hibernate(container.id);
    await sleep(500);
    await scheduler.resume(container.id);
    await scheduler.markRunning(container.id);
    await sleep(400);
    await scheduler.stop(container.id);
    await meter.tick();
    const events = await database.db.containerEvent.findMany({
      where: { containerId: container.id },
      orderBy: { seq: 'asc' },
    });
    let running = 0;
    events.forEach((event, i) => {
      const next = events[i + 1];
      if (event.toState === 'running' && next) running += next.at.getTime() - event.at.getTime();
    });
    const result = await billed(container.id);
    expect(result.reasons).toEqual(['hibernated', 'stopped']);
    expect(Math.abs(result.ms - running)).toBeLessThan(1000);
    expect(result.ms).toBe(running);
    const slice = await database.db.usageSlice.findFirstOrThrow({ where: { containerId: container.id } });
    expect(slice).toMatchObject({ gpuType: 'H100', gpuCount: 1, cpuMillicores: 2000, memoryMiB: 4096 });
  });

  it('a lost node ends its kernels at its last heartbeat, not when the loss is noticed', async () => {
    cluster = await createTestCluster(database, { heartbeatTimeoutMs: 1000 });
    await database.db.$executeRaw`TRUNCATE "UsageSlice", "BillingCursor"`;
    await cluster.node('doomed', []);
    const ws = await cluster.workspace('TEAM');
    const { scheduler } = cluster;
    const meter = createMeter({
      db: database.db,
      events: (cursor, limit) => scheduler.eventsAfter(cursor, limit),
    });
    const container = await scheduler.request({
      workspaceId: ws,
      kind: 'kernel',
      ownerId: 'nb-2',
      resources: { cpu: 1, memoryMiB: 1024 },
    });
    await scheduler.markRunning(container.id);
    await sleep(300);
    await scheduler.heartbeat('doomed');
    await meter.tick();
    // The gateway dies (kill -9): no more heartbeats. The loss is noticed well after.
    await sleep(2500);
    const lost = await scheduler.detectLostNodes();
    expect(lost.nodes).toEqual(['doomed']);
    await meter.tick();
    const node = await database.db.node.findUniqueOrThrow({ where: { id: 'doomed' } });
    const slice = await database.db.usageSlice.findFirstOrThrow({ where: { containerId: container.id } });
    expect(slice.endReason).toBe('lost');
    expect(slice.endAt?.getTime()).toBe(node.heartbeatAt.getTime());
    // Replaying every event from scratch changes nothing.
    await database.db.billingCursor.deleteMany();
    await meter.sync();
    expect(await database.db.usageSlice.count({ where: { containerId: container.id } })).toBe(1);
  });
});
