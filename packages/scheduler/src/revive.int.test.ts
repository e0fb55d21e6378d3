import { createMeter } from '@kiln/billing';
import { describe, expect, it } from 'vitest';
import { clusterPerTest, type TestCluster } from '../test/cluster.ts';
import { discoverGpus } from './gpu-inventory.ts';
import type { GpuTypeName } from './gpu-types.ts';

// A gateway restart slower than the heartbeat timeout: its node is declared lost with its containers,
// then it registers again reporting the sandboxes it re-adopted alive. Those come back (or are refused
// with the reason when their room is gone); those nobody brings back are given up after a while.

const clusters = clusterPerTest();
const { start } = clusters;

/** The node stopped beating long ago; a web process notices. */
async function loseNode(c: TestCluster, id: string): Promise<void> {
  await clusters.database.db.$executeRaw`
    UPDATE "Node" SET "heartbeatAt" = now() - interval '1 minute' WHERE id = ${id}`;
  const { nodes } = await c.scheduler.detectLostNodes();
  expect(nodes).toEqual([id]);
}

async function comeBack(
  c: TestCluster,
  id: string,
  alive: string[] | undefined,
  size: { cpu?: number; gpus?: { type: GpuTypeName; count: number }[] } = {},
) {
  return c.scheduler.registerNode({
    id,
    url: `http://127.0.0.1:2/${id}`,
    cpu: size.cpu ?? 64,
    memoryMiB: 256 * 1024,
    gpus: await discoverGpus({ declared: size.gpus ?? [] }),
    ...(alive ? { alive } : {}),
  });
}

async function running(c: TestCluster, ws: string, owner: string, resources: Record<string, unknown>) {
  const view = await c.scheduler.request({ workspaceId: ws, kind: 'kernel', ownerId: owner, resources });
  expect(view.state).toBe('starting');
  return c.scheduler.markRunning(view.id);
}

describe('a lost container its node brings back', () => {
  it('runs again with its GPUs and is billed again from the revival, never while lost', async () => {
    const c = await start();
    const db = clusters.database.db;
    await db.$executeRaw`TRUNCATE "UsageSlice", "BillingCursor"`;
    const meter = createMeter({ db, events: (cursor, limit) => c.scheduler.eventsAfter(cursor, limit) });
    await c.node('gw', [{ type: 'A10', count: 2 }]);
    const ws = await c.workspace('TEAM');
    const kernel = await running(c, ws, 'nb', { cpu: 2, memoryMiB: 2048, gpu: 'A10:2' });
    const gone = await running(c, ws, 'nb-2', { cpu: 1, memoryMiB: 1024 });
    await loseNode(c, 'gw');
    expect((await c.scheduler.get(kernel.id)).state).toBe('lost');
    await meter.sync();

    // The gateway re-adopted one sandbox; the other died with it.
    const back = await comeBack(c, 'gw', [kernel.id], { gpus: [{ type: 'A10', count: 2 }] });
    expect(back.refused).toEqual([]);
    expect(back.containers.map((view) => [view.id, view.state])).toEqual([[kernel.id, 'running']]);
    const revived = await c.scheduler.get(kernel.id);
    expect(revived).toMatchObject({ state: 'running', stop: null, endedAt: null });
    expect(revived.gpu?.indices).toEqual(kernel.gpu?.indices);
    // Its GPUs, CPU and memory are its own again: nothing else gets them.
    expect(back.node.gpus.map((gpu) => gpu.containerId)).toEqual([kernel.id, kernel.id]);
    expect(back.node.free.cpu).toBe(62);
    expect((await c.scheduler.usage(ws)).used).toEqual({ containers: 1, gpus: 2 });
    const other = await c.scheduler.get(gone.id);
    expect(other.state).toBe('stopped');
    expect(other.stop?.reason).toMatch(/came back without this kernel/);

    await new Promise((resolve) => setTimeout(resolve, 200));
    await c.scheduler.stop(kernel.id);
    await meter.sync();
    const events = await db.containerEvent.findMany({
      where: { containerId: kernel.id },
      orderBy: { seq: 'asc' },
    });
    expect(events.map((event) => event.toState)).toEqual([
      'starting',
      'running',
      'lost',
      'running',
      'stopped',
    ]);
    const slices = await db.usageSlice.findMany({
      where: { containerId: kernel.id },
      orderBy: { startAt: 'asc' },
    });
    expect(slices.map((slice) => slice.endReason)).toEqual(['lost', 'stopped']);
    const [lostAt, revivedAt, stoppedAt] = [events[2], events[3], events[4]].map((event) =>
      event?.at.getTime(),
    );
    // Nothing from the loss to the revival; the revived period exactly.
    expect(slices[0]?.endAt?.getTime()).toBeLessThanOrEqual(lostAt as number);
    expect(slices[1]?.startAt.getTime()).toBe(revivedAt);
    expect(slices[1]?.endAt?.getTime()).toBe(stoppedAt);
  });

  it('keeps a hibernated kernel hibernated, with its GPU shape, so it can wake', async () => {
    const c = await start();
    await c.node('gw', [{ type: 'A10', count: 2 }]);
    const ws = await c.workspace();
    const kernel = await running(c, ws, 'nb', { cpu: 1, memoryMiB: 1024, gpu: 'A10' });
    const indices = kernel.gpu?.indices;
    await c.scheduler.hibernate(kernel.id);
    await loseNode(c, 'gw');
    expect((await c.scheduler.get(kernel.id)).state).toBe('lost');

    const back = await comeBack(c, 'gw', [kernel.id], { gpus: [{ type: 'A10', count: 2 }] });
    expect(back.refused).toEqual([]);
    const view = await c.scheduler.get(kernel.id);
    expect(view).toMatchObject({ state: 'hibernated', stop: null });
    expect(view.gpu).toMatchObject({ type: 'A10', count: 1, indices });
    // Hibernated, it holds nothing; waking takes its GPU shape on its node again.
    expect(back.node.free.gpus).toEqual({ A10: 2 });
    const woken = await c.scheduler.resume(kernel.id, { whenBusy: 'refuse' });
    expect(woken).toMatchObject({ state: 'starting', node: { id: 'gw' }, gpu: { type: 'A10', count: 1 } });
  });

  it('refuses, with the reason, one whose CPU or GPU went to another kernel meanwhile', async () => {
    const c = await start();
    await c.node('gw', [{ type: 'A10', count: 2 }], { cpu: 4 });
    const ws = await c.workspace('TEAM');
    const a = await running(c, ws, 'nb-a', { cpu: 2, memoryMiB: 1024, gpu: 'A10' });
    const b = await running(c, ws, 'nb-b', { cpu: 2, memoryMiB: 1024, gpu: 'A10' });
    await loseNode(c, 'gw');
    // Registered again by something that did not report them (they stay lost), and a new kernel took
    // half the CPU and a GPU.
    await comeBack(c, 'gw', undefined, { cpu: 4, gpus: [{ type: 'A10', count: 2 }] });
    const taker = await running(c, ws, 'nb-c', { cpu: 2, memoryMiB: 1024, gpu: 'A10' });
    expect((await c.scheduler.get(a.id)).state).toBe('lost');

    const back = await comeBack(c, 'gw', [a.id, b.id, taker.id], {
      cpu: 4,
      gpus: [{ type: 'A10', count: 2 }],
    });
    const states = await Promise.all([a.id, b.id].map(async (id) => (await c.scheduler.get(id)).state));
    // Room for one of them only: the other is refused and stopped, and the gateway is told why.
    expect(states.sort()).toEqual(['running', 'stopped']);
    expect(back.refused).toHaveLength(1);
    const refused = back.refused[0];
    expect(refused?.reason).toMatch(
      /came back with this kernel alive, but its (CPU or memory|GPU \d) went to/,
    );
    const stopped = await c.scheduler.get(refused?.id as string);
    expect(stopped.stop).toEqual({ code: 'node_lost', reason: refused?.reason });
    // What runs there never holds more than the node has.
    expect(back.node.free.cpu).toBe(0);
    expect(new Set(back.node.gpus.map((gpu) => gpu.containerId)).size).toBe(2);
  });

  it("refuses one its workspace's plan has no room for any more", async () => {
    const c = await start({ plans: { STARTER: { maxContainers: 1 } } });
    await c.node('gw', []);
    const ws = await c.workspace('STARTER');
    const kernel = await running(c, ws, 'nb', { cpu: 1, memoryMiB: 1024 });
    await loseNode(c, 'gw');
    // Lost, it counts for nothing: the workspace starts another kernel on another node.
    await c.node('other', []);
    await running(c, ws, 'nb-2', { cpu: 1, memoryMiB: 1024 });

    const back = await comeBack(c, 'gw', [kernel.id]);
    expect(back.refused).toEqual([
      { id: kernel.id, reason: expect.stringMatching(/as many containers as its plan allows/) },
    ]);
    expect((await c.scheduler.get(kernel.id)).state).toBe('stopped');
    expect((await c.scheduler.usage(ws)).used.containers).toBe(1);
  });

  it('gives up a lost container no node brought back in time; a late return does not revive it', async () => {
    const c = await start({ lostGiveUpMs: 500 });
    await c.node('gw', []);
    const ws = await c.workspace();
    const kernel = await running(c, ws, 'nb', { cpu: 1, memoryMiB: 1024 });
    await loseNode(c, 'gw');
    // Too early: it may still come back.
    expect(await c.scheduler.giveUpLost()).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 600));
    await c.scheduler.tick();
    const view = await c.scheduler.get(kernel.id);
    expect(view.state).toBe('stopped');
    expect(view.stop?.reason).toMatch(/^Lost: node gw stopped answering.*given up/);
    // Its end is when it was lost, not when it was given up.
    const lost = await clusters.database.db.containerEvent.findFirstOrThrow({
      where: { containerId: kernel.id, toState: 'lost' },
    });
    expect(view.endedAt?.getTime()).toBe(lost.at.getTime());
    const back = await comeBack(c, 'gw', [kernel.id]);
    expect(back.containers).toEqual([]);
    expect((await c.scheduler.get(kernel.id)).state).toBe('stopped');
  });
});
