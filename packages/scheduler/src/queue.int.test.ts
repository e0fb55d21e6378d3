import { createDb } from '@kiln/db';
import { describe, expect, it } from 'vitest';
import { clusterPerTest } from '../test/cluster.ts';
import { createScheduler } from './scheduler.ts';

const clusters = clusterPerTest();
const { start } = clusters;

const small = { cpu: 0.5, memoryMiB: 512 };

describe('the queue', () => {
  it('shows position and reason, counting only requests that want the same thing', async () => {
    const c = await start();
    await c.node('n', [{ type: 'H100', count: 1 }], { cpu: 8 });
    const [a, b, d] = [await c.workspace(), await c.workspace(), await c.workspace()];
    const holder = await c.scheduler.request({
      workspaceId: a,
      kind: 'kernel',
      ownerId: 'a',
      resources: { ...small, gpu: 'H100' },
    });
    expect(holder.state).toBe('starting');
    const first = await c.scheduler.request({
      workspaceId: b,
      kind: 'kernel',
      ownerId: 'b',
      resources: { ...small, gpu: 'H100' },
    });
    const second = await c.scheduler.request({
      workspaceId: d,
      kind: 'kernel',
      ownerId: 'd',
      resources: { ...small, gpu: 'H100' },
    });
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
    const other = createDb(clusters.database.url, { max: 2 });
    try {
      const view = await createScheduler({ db: other }).get(second.id);
      expect(view.queue?.reason).toBe('waiting for an H100: 1 ahead');
    } finally {
      await other.$disconnect();
    }
  });

  it("places a burst from one workspace round-robin with another's single request", async () => {
    const c = await start();
    await c.node('n', [{ type: 'T4', count: 1 }], { cpu: 8 });
    const [a, b, other] = [await c.workspace(), await c.workspace(), await c.workspace()];
    const ask = (ws: string, owner: string) =>
      c.scheduler.request({
        workspaceId: ws,
        kind: 'kernel',
        ownerId: owner,
        resources: { ...small, gpu: 'T4' },
      });
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
    const one = await c.scheduler.request({
      workspaceId: a,
      kind: 'kernel',
      ownerId: 'one',
      resources: { ...small, gpu: 'A100-40GB' },
    });
    const both = await c.scheduler.request({
      workspaceId: b,
      kind: 'kernel',
      ownerId: 'both',
      resources: { ...small, gpu: 'A100-40GB:2' },
    });
    const later = await c.scheduler.request({
      workspaceId: d,
      kind: 'kernel',
      ownerId: 'later',
      resources: { ...small, gpu: 'A100-40GB' },
    });
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
    const ask = (owner: string, gpu: string[]) =>
      c.scheduler.request({ workspaceId: ws, kind: 'kernel', ownerId: owner, resources: { ...small, gpu } });
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
    const ask = (owner: string) =>
      c.scheduler.request({
        workspaceId: ws,
        kind: 'kernel',
        ownerId: owner,
        resources: { ...small, gpu: 'L4' },
      });
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
    await c.scheduler.request({
      workspaceId: ws,
      kind: 'kernel',
      ownerId: 'holder',
      resources: { ...small, gpu: 'B200' },
    });
    const waiting = await c.scheduler.request({
      workspaceId: ws,
      kind: 'kernel',
      ownerId: 'w',
      resources: { ...small, gpu: 'B200' },
    });
    const started = Date.now();
    const ended = await c.scheduler.waitForPlacement(waiting.id);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(ended).toMatchObject({ state: 'stopped', stop: { code: 'queue_timeout' } });
    expect(ended.stop?.reason).toMatch(
      /^Gave up after waiting \d+ s for a B200: nothing became free in time/,
    );
    expect((await c.scheduler.usage(ws)).used).toEqual({ containers: 1, gpus: 1 });

    // Without anyone waiting, the periodic tick expires it; a per-request timeout overrides the default.
    const quick = await c.scheduler.request({
      workspaceId: ws,
      kind: 'kernel',
      ownerId: 'q',
      resources: { ...small, gpu: 'B200' },
      queueTimeoutMs: 200,
    });
    await new Promise((resolve) => setTimeout(resolve, 400));
    await c.scheduler.tick();
    expect((await c.scheduler.get(quick.id)).stop?.code).toBe('queue_timeout');
  });

  it('wakes a waiter when another process frees the resources', async () => {
    const c = await start({ pollIntervalMs: 100 });
    await c.node('n', [{ type: 'L40S', count: 1 }]);
    const ws = await c.workspace();
    const holder = await c.scheduler.request({
      workspaceId: ws,
      kind: 'kernel',
      ownerId: 'h',
      resources: { ...small, gpu: 'L40S' },
    });
    const waiting = await c.scheduler.request({
      workspaceId: ws,
      kind: 'kernel',
      ownerId: 'w',
      resources: { ...small, gpu: 'L40S' },
    });
    const placed = c.scheduler.waitForPlacement(waiting.id);
    const other = createDb(clusters.database.url, { max: 2 });
    try {
      await createScheduler({ db: other }).stop(holder.id);
    } finally {
      await other.$disconnect();
    }
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
    const ask = () =>
      c.scheduler.request({
        workspaceId: ws,
        kind: 'kernel',
        ownerId: 'x',
        resources: { ...small, gpu: 'H200' },
        whenBusy: 'refuse',
      });
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
    const ask = (owner: string) =>
      c.scheduler.request({
        workspaceId: ws,
        kind: 'kernel',
        ownerId: owner,
        resources: { ...small, gpu: 'T4' },
      });
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
