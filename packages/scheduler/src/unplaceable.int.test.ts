import { describe, expect, it } from 'vitest';
import { clusterPerTest, refusal } from '../test/cluster.ts';

const clusters = clusterPerTest();
const { start } = clusters;

const GiB = 1024;

describe('a request larger than any node can ever hold', () => {
  it('is refused at once, naming the largest node, while one that only has to wait for room queues', async () => {
    // A queue timeout far beyond the test: anything that "waits until the timeout" would hang it.
    const c = await start({ queueTimeoutMs: 3_600_000 });
    await c.node('small', [{ type: 'T4', count: 1 }], { cpu: 4, memoryMiB: 8 * GiB });
    await c.node('large', [{ type: 'T4', count: 2 }], { cpu: 8, memoryMiB: 16 * GiB });
    const ws = await c.workspace('TEAM');
    const ask = (ownerId: string, resources: Record<string, unknown>) =>
      c.scheduler.request({ workspaceId: ws, kind: 'kernel', ownerId, resources });

    const huge = await refusal(ask('huge', { cpu: 2, memoryMiB: 64 * GiB }));
    expect(huge.code).toBe('VALIDATION_FAILED');
    expect(huge.message).toMatch(
      /^This machine cannot run anywhere in this Kiln: no node has 2 CPUs and 64 GiB of memory \(the largest has 8 CPUs and 16 GiB\)/,
    );
    const gpus = await refusal(ask('gpus', { cpu: 1, memoryMiB: GiB, gpu: 'T4:4' }));
    expect(gpus.message).toMatch(/no node has 4 × T4 \(at most 2 on one node\)/);
    expect(await c.scheduler.list({ workspaceId: ws })).toEqual([]);

    // The large node's warm spares hold 2 GiB: a kernel can never get more than 14 GiB there.
    await c.scheduler.heartbeat('large', { reservedMemoryMiB: 2 * GiB });
    const spared = await refusal(ask('spared', { cpu: 1, memoryMiB: 15 * GiB }));
    expect(spared.message).toMatch(
      /no node has 1 CPU and 15 GiB of memory \(the largest has 8 CPUs and 14 GiB; its warm spares hold 2 GiB more\)/,
    );

    // What fits a node but not now waits, with its place in the queue.
    const holder = await ask('holder', { cpu: 1, memoryMiB: 12 * GiB });
    expect(holder).toMatchObject({ state: 'starting', node: { id: 'large' } });
    const waiting = await ask('waiting', { cpu: 1, memoryMiB: 10 * GiB });
    expect(waiting).toMatchObject({ state: 'queued', queue: { position: 1 } });
    await c.scheduler.stop(holder.id);
    expect(await c.scheduler.get(waiting.id)).toMatchObject({ state: 'starting', node: { id: 'large' } });
  });

  it('ends a waiting request once no node could ever run it, instead of letting it time out', async () => {
    const c = await start({ queueTimeoutMs: 3_600_000 });
    const ws = await c.workspace('TEAM');
    // Nothing is online: every request waits for a node to come.
    const big = await c.scheduler.request({
      workspaceId: ws,
      kind: 'kernel',
      ownerId: 'big',
      resources: { cpu: 1, memoryMiB: 32 * GiB },
    });
    const fits = await c.scheduler.request({
      workspaceId: ws,
      kind: 'kernel',
      ownerId: 'fits',
      resources: { cpu: 1, memoryMiB: 4 * GiB },
    });
    expect(big.queue?.reason).toMatch(/waiting for a node to come online/);

    // A node with 16 GiB joins: the 4 GiB kernel starts; the 32 GiB one is told it can never run here.
    await c.node('only', [], { cpu: 8, memoryMiB: 16 * GiB });
    expect((await c.scheduler.get(fits.id)).state).toBe('starting');
    const ended = await c.scheduler.get(big.id);
    expect(ended).toMatchObject({ state: 'stopped', stop: { code: 'unplaceable' } });
    expect(ended.stop?.reason).toMatch(
      /no node has 1 CPU and 32 GiB of memory \(the largest has 8 CPUs and 16 GiB\)/,
    );
    expect((await c.scheduler.usage(ws)).used.containers).toBe(1);
  });
});
