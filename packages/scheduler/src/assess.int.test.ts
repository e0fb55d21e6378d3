import { describe, expect, it } from 'vitest';
import { clusterPerTest } from '../test/cluster.ts';

const clusters = clusterPerTest({ max: 4 });

describe('assess (the machine picker)', () => {
  it('says what runs now, what would wait and why, and refuses what could never run', async () => {
    const cluster = await clusters.start();
    const c = cluster;
    await c.node('cpu-only', [], { cpu: 2, memoryMiB: 8192 });
    const ws = await c.workspace('STARTER');

    expect(await c.scheduler.assess(ws, { cpu: 1, memoryMiB: 2048 })).toEqual({
      verdict: 'now',
      reason: null,
    });
    // The bug from the issue: a T4 on a host without GPUs must be refused, with what is valid.
    const t4 = await c.scheduler.assess(ws, { cpu: 1, memoryMiB: 2048, gpu: 'T4' });
    expect(t4.verdict).toBe('refused');
    expect(t4.reason).toMatch(/no node has T4 GPUs/);
    expect(t4.reason).toMatch(/CPU-only machines up to 2 CPUs and 8 GiB/);
    // Above the Starter plan's 8 CPUs: the plan, the limit and what raises it.
    const big = await c.scheduler.assess(ws, { cpu: 16, memoryMiB: 2048 });
    expect(big.verdict).toBe('refused');
    expect(big.reason).toMatch(/Starter plan allows at most 8 CPUs.*Upgrade to Team/);

    await c.scheduler.request({
      workspaceId: ws,
      kind: 'kernel',
      ownerId: 'a',
      resources: { cpu: 2, memoryMiB: 1024 },
    });
    const busy = await c.scheduler.assess(ws, { cpu: 1, memoryMiB: 2048 });
    expect(busy).toEqual({
      verdict: 'queue',
      reason: 'would wait for 1 CPU and 2 GiB of memory: all in use',
    });
  });
});
