import { createMeter } from '@kiln/billing';
import { describe, expect, it } from 'vitest';
import { clusterPerTest } from '../test/cluster.ts';

// Billing meters from this package's events; these tests hold the two together on real Postgres.
const clusters = clusterPerTest();

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function billed(containerId: string): Promise<{ ms: number; reasons: (string | null)[] }> {
  const slices = await clusters.database.db.usageSlice.findMany({
    where: { containerId },
    orderBy: { startAt: 'asc' },
  });
  const ms = slices.reduce((sum, s) => sum + ((s.endAt?.getTime() ?? Number.NaN) - s.startAt.getTime()), 0);
  return { ms, reasons: slices.map((s) => s.endReason) };
}

describe('the usage ledger over the scheduler', () => {
  it('bills exactly the running time of a kernel, not its queue, start or hibernation', async () => {
    const cluster = await clusters.start();
    await clusters.database.db.$executeRaw`TRUNCATE "UsageSlice", "BillingCursor"`;
    await cluster.node('gpu-node', [{ type: 'H100', count: 2 }]);
    const ws = await cluster.workspace('TEAM');
    const { scheduler } = cluster;
    const meter = createMeter({
      db: clusters.database.db,
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
    const events = await clusters.database.db.containerEvent.findMany({
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
    const slice = await clusters.database.db.usageSlice.findFirstOrThrow({
      where: { containerId: container.id },
    });
    expect(slice).toMatchObject({ gpuType: 'H100', gpuCount: 1, cpuMillicores: 2000, memoryMiB: 4096 });
  });

  it('a lost node ends its kernels at its last heartbeat, not when the loss is noticed', async () => {
    const cluster = await clusters.start({ heartbeatTimeoutMs: 1000 });
    await clusters.database.db.$executeRaw`TRUNCATE "UsageSlice", "BillingCursor"`;
    await cluster.node('doomed', []);
    const ws = await cluster.workspace('TEAM');
    const { scheduler } = cluster;
    const meter = createMeter({
      db: clusters.database.db,
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
    const node = await clusters.database.db.node.findUniqueOrThrow({ where: { id: 'doomed' } });
    const slice = await clusters.database.db.usageSlice.findFirstOrThrow({
      where: { containerId: container.id },
    });
    expect(slice.endReason).toBe('lost');
    expect(slice.endAt?.getTime()).toBe(node.heartbeatAt.getTime());
    // Replaying every event from scratch changes nothing.
    await clusters.database.db.billingCursor.deleteMany();
    await meter.sync();
    expect(await clusters.database.db.usageSlice.count({ where: { containerId: container.id } })).toBe(1);
  });
});
