import { createDb } from '@kiln/db';
import { describe, expect, it } from 'vitest';
import { clusterPerTest, type TestCluster } from '../test/cluster.ts';
import { createScheduler, type Scheduler } from './scheduler.ts';
import type { ContainerRequest } from './types.ts';

const clusters = clusterPerTest();
const { start } = clusters;

const small = { cpu: 0.5, memoryMiB: 512 };

/** Asks `c` for a small kernel of `ownerId` in `workspaceId` on `gpu`, with any further request fields. */
function askKernel(
  c: TestCluster,
  workspaceId: string,
  ownerId: string,
  gpu: string | string[],
  more: Partial<ContainerRequest> = {},
) {
  return c.scheduler.request({ workspaceId, kind: 'kernel', ownerId, resources: { ...small, gpu }, ...more });
}

/** Runs `use` with a scheduler of its own over the test database, as another process would. */
async function inOtherProcess(use: (scheduler: Scheduler) => Promise<void>): Promise<void> {
  const other = createDb(clusters.database.url, { max: 2 });
  try {
    await use(createScheduler({ db: other }));
  } finally {
    await other.$disconnect();
  }
}

describe('the queue', () => {
  it('shows position and reason, counting only requests that want the same thing', async () => {
    const c = await start();
    await c.node('n', [{ type: 'H100', count: 1 }], { cpu: 8 });
    const [a, b, d] = [await c.workspace(), await c.workspace(), await c.workspace()];
    const holder = await askKernel(c, a, 'a', 'H100');
    expect(holder.state).toBe('starting');
    const first = await askKernel(c, b, 'b', 'H100');
    const second = await askKernel(c, d, 'd', 'H100');
    expect(first).toMatchObject({
      state: 'queued',
      node: null,
      queue: { position: 1, ahead: 0, reason: 'waiting for an H100: 0 ahead' },
    });
    expect(second.queue).toMatchObject({ position: 2, ahead: 1, reason: 'waiting for an H100: 1 ahead' });
    // CPU-only work is not held up behind GPU requests.
    const cpu = await c.scheduler.request({
      workspaceId: d,
      kind: 'kernel',
      ownerId: 'cpu',
      resources: small,
    });
    expect(cpu.state).toBe('starting');
    // The queue lives in Postgres: another process sees the same positions.
    await inOtherProcess(async (other) => {
      const view = await other.get(second.id);
      expect(view.queue?.reason).toBe('waiting for an H100: 1 ahead');
    });
  });

  it("places a burst from one workspace round-robin with another's single request", async () => {
    const c = await start();
    await c.node('n', [{ type: 'T4', count: 1 }], { cpu: 8 });
    const [a, b, other] = [await c.workspace(), await c.workspace(), await c.workspace()];
    const ask = (ws: string, owner: string) => askKernel(c, ws, owner, 'T4');
    let running = await ask(other, 'holder');
    for (let n = 1; n <= 5; n++) await ask(a, `a${n}`);
    await ask(b, 'b1');
    expect((await c.scheduler.list({ workspaceId: b }))[0]?.queue?.reason).toBe('waiting for a T4: 1 ahead');
    const placedOrder: string[] = [];
    for (let n = 0; n < 6; n++) {
      await c.scheduler.stop(running.id);
      const [next] = await c.scheduler.list({ states: ['starting'] });
      if (!next) throw new Error('nothing was placed after a stop');
      placedOrder.push(next.ownerId);
      running = next;
    }
    expect(placedOrder).toEqual(['a1', 'b1', 'a2', 'a3', 'a4', 'a5']);
  });

  it('lets a request waiting for a whole node keep its turn against smaller ones behind it', async () => {
    const c = await start();
    await c.node('n', [{ type: 'A100-40GB', count: 2 }], { cpu: 8 });
    const [a, b, d] = [await c.workspace(), await c.workspace(), await c.workspace()];
    const one = await askKernel(c, a, 'one', 'A100-40GB');
    const both = await askKernel(c, b, 'both', 'A100-40GB:2');
    const later = await askKernel(c, d, 'later', 'A100-40GB');
    // One device is free, but the 2-device request is first in line: the later 1-device request waits.
    expect([both.state, later.state]).toEqual(['queued', 'queued']);
    expect(later.queue?.ahead).toBe(1);
    await c.scheduler.stop(one.id);
    expect((await c.scheduler.get(both.id)).gpu).toMatchObject({ count: 2, indices: [0, 1] });
    expect((await c.scheduler.get(later.id)).state).toBe('queued');
  });

  it('tries fallback choices in order, and a queued fallback takes whichever frees first', async () => {
    const c = await start();
    await c.node('h', [{ type: 'H100', count: 1 }]);
    await c.node('a', [{ type: 'A100-80GB', count: 1 }]);
    const ws = await c.workspace();
    const ask = (owner: string, gpu: string[]) => askKernel(c, ws, owner, gpu);
    const x = await ask('x', ['H100', 'A100-80GB']);
    const y = await ask('y', ['H100', 'A100-80GB']);
    expect([x.gpu?.type, y.gpu?.type]).toEqual(['H100', 'A100-80GB']);
    const z = await ask('z', ['H100', 'A100-80GB']);
    expect(z.queue?.reason).toBe('waiting for an H100 or an A100-80GB: 0 ahead');
    await c.scheduler.stop(y.id);
    expect(await c.scheduler.get(z.id)).toMatchObject({
      state: 'starting',
      node: { id: 'a' },
      gpu: { type: 'A100-80GB' },
    });
  });

  it('cancels a waiting request and moves the ones behind it up', async () => {
    const c = await start();
    await c.node('n', [{ type: 'L4', count: 1 }]);
    const ws = await c.workspace();
    const ask = (owner: string) => askKernel(c, ws, owner, 'L4');
    const holder = await ask('holder');
    const first = await ask('first');
    const second = await ask('second');
    expect(second.queue?.ahead).toBe(1);
    const cancelled = await c.scheduler.cancel(first.id);
    expect(cancelled).toMatchObject({ state: 'stopped', queue: null, stop: { code: 'cancelled' } });
    expect((await c.scheduler.get(second.id)).queue).toMatchObject({ position: 1, ahead: 0 });
    await expect(c.scheduler.cancel(holder.id)).rejects.toMatchObject({ code: 'CONFLICT' });
    await c.scheduler.stop(holder.id);
    expect((await c.scheduler.get(second.id)).state).toBe('starting');
    expect((await c.scheduler.get(first.id)).state).toBe('stopped');
  });

  it('gives up after the timeout with a message saying what it waited for', async () => {
    const c = await start({ queueTimeoutMs: 1500, pollIntervalMs: 100 });
    await c.node('n', [{ type: 'B200', count: 1 }]);
    const ws = await c.workspace();
    await askKernel(c, ws, 'holder', 'B200');
    const waiting = await askKernel(c, ws, 'w', 'B200');
    const started = Date.now();
    const ended = await c.scheduler.waitForPlacement(waiting.id);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(ended).toMatchObject({ state: 'stopped', stop: { code: 'queue_timeout' } });
    expect(ended.stop?.reason).toMatch(
      /^Gave up after waiting \d+ s for a B200: nothing became free in time/,
    );
    expect((await c.scheduler.usage(ws)).used).toEqual({ containers: 1, gpus: 1 });

    // Without anyone waiting, the periodic tick expires it; a per-request timeout overrides the default.
    const quick = await askKernel(c, ws, 'q', 'B200', { queueTimeoutMs: 200 });
    await new Promise((resolve) => setTimeout(resolve, 400));
    await c.scheduler.tick();
    expect((await c.scheduler.get(quick.id)).stop?.code).toBe('queue_timeout');
  });

  it('wakes a waiter when another process frees the resources', async () => {
    const c = await start({ pollIntervalMs: 100 });
    await c.node('n', [{ type: 'L40S', count: 1 }]);
    const ws = await c.workspace();
    const holder = await askKernel(c, ws, 'h', 'L40S');
    const waiting = await askKernel(c, ws, 'w', 'L40S');
    const placed = c.scheduler.waitForPlacement(waiting.id);
    await inOtherProcess(async (other) => {
      await other.stop(holder.id);
    });
    expect(await placed).toMatchObject({
      state: 'starting',
      node: { id: 'n' },
      gpu: { type: 'L40S', indices: [0] },
    });
  });

  it('refuses instead of queueing when asked to', async () => {
    const c = await start();
    await c.node('n', [{ type: 'H200', count: 1 }]);
    const ws = await c.workspace();
    const ask = () => askKernel(c, ws, 'x', 'H200', { whenBusy: 'refuse' });
    await ask();
    await expect(ask()).rejects.toMatchObject({
      code: 'GPU_UNAVAILABLE',
      message: expect.stringMatching(/No node has room for H200:1 now/),
    });
    expect(await c.scheduler.list({ workspaceId: ws, states: ['queued'] })).toEqual([]);
  });

  it('resumes a hibernated kernel on its own node, waiting there when its GPU was taken', async () => {
    const c = await start();
    await c.node('n', [{ type: 'T4', count: 1 }]);
    await c.node('m', [{ type: 'T4', count: 1 }]);
    const ws = await c.workspace();
    const ask = (owner: string) => askKernel(c, ws, owner, 'T4');
    const kernel = await ask('kernel');
    const home = kernel.node?.id;
    await c.scheduler.markRunning(kernel.id);
    await c.scheduler.hibernate(kernel.id);
    const other = await ask('other');
    expect(other.node?.id).toBe(home);
    const blocker = await ask('blocker');
    expect(blocker.node?.id).not.toBe(home);
    const resumed = await c.scheduler.resume(kernel.id);
    expect(resumed).toMatchObject({ state: 'queued', node: { id: home } });
    expect(resumed.queue?.reason).toBe(`waiting for a T4 on node ${home}: 0 ahead`);
    await c.scheduler.stop(other.id);
    expect(await c.scheduler.get(kernel.id)).toMatchObject({
      state: 'starting',
      node: { id: home },
      gpu: { count: 1 },
    });
  });
});
