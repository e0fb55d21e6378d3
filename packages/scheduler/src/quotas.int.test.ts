import { describe, expect, it } from 'vitest';
import { clusterPerTest, refusal } from '../test/cluster.ts';

const clusters = clusterPerTest();
const { start } = clusters;

const tiny = { cpu: 0.125, memoryMiB: 128 };

describe('plan limits on concurrent containers', () => {
  it('Starter: the 99th and 100th are admitted, the 101st refused; hibernated kernels do not count', async () => {
    const c = await start();
    await c.node('cpu-node', [], { cpu: 64, memoryMiB: 64 * 1024 });
    const ws = await c.workspace('STARTER');
    const ask = (n: number) =>
      c.scheduler.request({ workspaceId: ws, kind: 'kernel', ownerId: `nb-${n}`, resources: tiny });
    const admitted = [];
    for (let n = 1; n <= 99; n++) admitted.push(await ask(n));
    expect((await c.scheduler.usage(ws)).used.containers).toBe(99);
    admitted.push(await ask(100));
    expect(admitted.every((container) => container.state === 'starting')).toBe(true);

    const error = await refusal(ask(101));
    expect(error.code).toBe('QUOTA_EXCEEDED');
    expect(error.message).toMatch(/100 containers/);
    expect(error.message).toMatch(/Starter plan's limit of 100 concurrent containers/);
    expect(error.message).toMatch(/Upgrade to Team for 1,000/);
    expect(error.details).toMatchObject({ limit: 'maxContainers', plan: 'STARTER', max: 100, used: 100 });

    const first = admitted[0];
    if (!first) throw new Error('no container');
    await c.scheduler.markRunning(first.id);
    await c.scheduler.hibernate(first.id);
    expect((await c.scheduler.usage(ws)).used.containers).toBe(99);
    expect((await ask(101)).state).toBe('starting');
    expect((await refusal(ask(102))).code).toBe('QUOTA_EXCEEDED');
    // Waking the hibernated kernel would make 101.
    expect((await refusal(c.scheduler.resume(first.id))).code).toBe('QUOTA_EXCEEDED');
    expect((await c.scheduler.get(first.id)).state).toBe('hibernated');
  });

  it('counts queued requests, so a burst cannot queue past the limit', async () => {
    const c = await start({ plans: { ENTERPRISE: { maxContainers: 3, gpuConcurrency: 100 } } });
    await c.node('one-gpu', [{ type: 'T4', count: 1 }]);
    const ws = await c.workspace('ENTERPRISE');
    const ask = (n: number) =>
      c.scheduler.request({
        workspaceId: ws,
        kind: 'kernel',
        ownerId: `nb-${n}`,
        resources: { ...tiny, gpu: 'T4' },
      });
    expect((await ask(1)).state).toBe('starting');
    expect((await ask(2)).state).toBe('queued');
    expect((await ask(3)).state).toBe('queued');
    const error = await refusal(ask(4));
    expect(error.message).toMatch(/Enterprise plan's limit of 3/);
    expect(error.message).toMatch(/Ask the operator to raise the Enterprise limit/);
  });
});

describe('plan limits on concurrent GPUs', () => {
  it('Starter: 10 GPUs are admitted, the 11th refused; a hibernated kernel holds none', async () => {
    const c = await start();
    await c.node('h100s', [{ type: 'H100', count: 8 }], { cpu: 64 });
    await c.node('more-h100s', [{ type: 'H100', count: 8 }], { cpu: 64 });
    const ws = await c.workspace('STARTER');
    const ask = (gpu: string | string[]) =>
      c.scheduler.request({ workspaceId: ws, kind: 'kernel', ownerId: 'nb', resources: { ...tiny, gpu } });
    const eight = await ask('H100:8');
    const two = await ask('H100:2');
    expect([eight.state, two.state]).toEqual(['starting', 'starting']);
    expect((await c.scheduler.usage(ws)).used.gpus).toBe(10);

    const error = await refusal(ask('H100'));
    expect(error.code).toBe('QUOTA_EXCEEDED');
    expect(error.message).toMatch(/holds 10 GPUs .* limit of 10 GPUs at once/);
    expect(error.message).toMatch(/Upgrade to Team for 50 GPUs/);
    expect(error.details).toMatchObject({
      limit: 'gpuConcurrency',
      plan: 'STARTER',
      max: 10,
      used: 10,
      requested: 1,
    });

    await c.scheduler.markRunning(eight.id);
    await c.scheduler.hibernate(eight.id);
    expect((await c.scheduler.usage(ws)).used.gpus).toBe(2);
    const nodes = await c.scheduler.listNodes();
    expect(nodes.reduce((sum, node) => sum + (node.free.gpus.H100 ?? 0), 0)).toBe(14);
    // A fallback list skips the shapes over the limit: 8 more would make 10, 9 is not a shape; 2 + 8 = 10.
    expect((await ask(['H100:8'])).gpu?.count).toBe(8);
    expect((await refusal(ask('H100'))).code).toBe('QUOTA_EXCEEDED');
  });

  it('takes the first fallback shape that fits under the limit', async () => {
    const c = await start();
    await c.node('n', [{ type: 'A100-80GB', count: 8 }]);
    await c.node('m', [{ type: 'A100-80GB', count: 8 }]);
    const ws = await c.workspace('STARTER');
    const ask = (gpu: string | string[]) =>
      c.scheduler.request({ workspaceId: ws, kind: 'kernel', ownerId: 'nb', resources: { ...tiny, gpu } });
    await ask('A100-80GB:8');
    expect((await ask(['A100-80GB:4', 'A100-80GB:2'])).gpu?.count).toBe(2);
  });

  it('Team: 50 GPUs admitted, the 51st refused', async () => {
    const c = await start();
    for (let n = 0; n < 7; n++) await c.node(`n${n}`, [{ type: 'L4', count: 8 }]);
    const ws = await c.workspace('TEAM');
    const ask = (gpu: string) =>
      c.scheduler.request({ workspaceId: ws, kind: 'kernel', ownerId: 'nb', resources: { ...tiny, gpu } });
    for (let n = 0; n < 6; n++) await ask('L4:8');
    await ask('L4:2');
    expect((await c.scheduler.usage(ws)).used.gpus).toBe(50);
    const error = await refusal(ask('L4'));
    expect(error.message).toMatch(/Team plan's limit of 50 GPUs/);
    expect(error.message).toMatch(/The operator sets Enterprise limits/);
  });
});

describe('per-container maximums', () => {
  it('refuses more CPU or memory than the plan allows per container, naming the plan and the upgrade', async () => {
    const c = await start();
    await c.node('big', [], { cpu: 128, memoryMiB: 1024 * 1024 });
    const starter = await c.workspace('STARTER');
    const team = await c.workspace('TEAM');
    const ask = (ws: string, cpu: number, memoryMiB: number) =>
      c.scheduler.request({ workspaceId: ws, kind: 'kernel', ownerId: 'nb', resources: { cpu, memoryMiB } });
    expect((await ask(starter, 8, 32 * 1024)).state).toBe('starting');
    const cpu = await refusal(ask(starter, 9, 1024));
    expect(cpu.message).toMatch(
      /Starter plan allows at most 8 CPUs per container.*9 CPUs.*Upgrade to Team for 32 CPUs/,
    );
    // What issue 9 found users asking for: 64 CPUs and 256 GiB.
    const memory = await refusal(ask(team, 16, 256 * 1024));
    expect(memory.message).toMatch(/Team plan allows at most 128 GiB of memory per container/);
    expect(memory.details).toMatchObject({ limit: 'maxMemoryMiB', plan: 'TEAM', max: 128 * 1024 });
  });

  it("applies the operator's maximum when it is lower than the plan's", async () => {
    const c = await start({ maxCpuPerContainer: 4, maxMemoryMiBPerContainer: 8192 });
    await c.node('n', []);
    const ws = await c.workspace('TEAM');
    const error = await refusal(
      c.scheduler.request({
        workspaceId: ws,
        kind: 'kernel',
        ownerId: 'nb',
        resources: { cpu: 6, memoryMiB: 1024 },
      }),
    );
    expect(error.code).toBe('QUOTA_EXCEEDED');
    expect(error.message).toMatch(/at most 4 CPUs per container \(the operator's maximum\)/);
  });
});

describe('requests no node can run', () => {
  it('refuses a GPU on a cluster without GPUs, saying what can run', async () => {
    const c = await start();
    await c.scheduler.registerNode({
      id: 'laptop',
      url: 'http://127.0.0.1:1',
      cpu: 8,
      memoryMiB: 16_384,
      gpus: { source: 'none', devices: [], note: 'nvidia-smi not found: no NVIDIA GPUs on this host' },
    });
    const ws = await c.workspace();
    const error = await refusal(
      c.scheduler.request({
        workspaceId: ws,
        kind: 'kernel',
        ownerId: 'nb',
        resources: { ...tiny, gpu: 'T4' },
      }),
    );
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.message).toMatch(/no node has T4 GPUs\. No node has GPUs: CPU-only machines up to 8 CPUs/);
    expect(await c.scheduler.list({ workspaceId: ws })).toEqual([]);
  });

  it('refuses more devices than any node has, listing each type with its most per container', async () => {
    const c = await start();
    await c.node('a', [{ type: 'H100', count: 4 }]);
    await c.node('b', [{ type: 'A10', count: 2 }]);
    const ws = await c.workspace('TEAM');
    const ask = (gpu: string | string[]) =>
      c.scheduler.request({ workspaceId: ws, kind: 'kernel', ownerId: 'nb', resources: { ...tiny, gpu } });
    const error = await refusal(ask('H100:8'));
    expect(error.message).toMatch(/no node has 8 × H100 \(at most 4 on one node\)/);
    expect(error.message).toMatch(
      /Available: H100 \(up to 4 per container, declared for development, not probed\), A10 \(up to 2/,
    );
    expect(error.details?.valid).toMatchObject({
      gpus: [
        { type: 'H100', maxCount: 4, declared: true },
        { type: 'A10', maxCount: 2 },
      ],
    });
    expect(await refusal(ask('A10:8'))).toMatchObject({
      message: expect.stringMatching(/A10 can be requested at most 4/),
    });
    // A fallback list is refused only when no shape in it could ever run.
    expect((await ask(['H100:8', 'H100:4'])).gpu).toMatchObject({ type: 'H100', count: 4 });
  });
});
