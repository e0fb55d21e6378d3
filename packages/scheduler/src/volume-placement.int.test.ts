import { describe, expect, it } from 'vitest';
import { clusterPerTest, type createTestCluster, refusal } from '../test/cluster.ts';

const clusters = clusterPerTest();
const { start } = clusters;

const GiB = 1024;

/** Two nodes: `a` small (4 CPUs, registered first), `b` large; a Team workspace with volumes. */
async function twoNodes(options: Parameters<typeof createTestCluster>[1] = {}) {
  const c = await start({ queueTimeoutMs: 3_600_000, ...options });
  await c.node('a', [], { cpu: 4, memoryMiB: 8 * GiB });
  await c.node('b', [], { cpu: 64, memoryMiB: 64 * GiB });
  const ws = await c.workspace('TEAM');
  const volume = async (name: string) =>
    (await clusters.database.db.volume.create({ data: { workspaceId: ws, name } })).id;
  const ask = (ownerId: string, cpu: number, volumes: string[] = []) =>
    c.scheduler.request({
      workspaceId: ws,
      kind: 'kernel',
      ownerId,
      resources: { cpu, memoryMiB: GiB },
      volumes,
    });
  const homeOf = async (id: string) =>
    (await clusters.database.db.volume.findUniqueOrThrow({ where: { id } })).nodeId;
  return { c, ws, volume, ask, homeOf };
}

describe('named volumes as a placement constraint', () => {
  it("runs every kernel mounting a volume on the volume's node, waiting there when it is full", async () => {
    const { c, ws, volume, ask, homeOf } = await twoNodes();
    const data = await volume('data');
    // Best fit puts a 1-CPU kernel on the small node; the volume, used for the first time, lives there.
    const first = await ask('first', 1, [data]);
    expect(first).toMatchObject({ state: 'starting', node: { id: 'a' } });
    expect(await homeOf(data)).toBe('a');
    // Fill node a with kernels that mount nothing.
    expect(await ask('filler', 3)).toMatchObject({ state: 'starting', node: { id: 'a' } });
    // Node b has 64 free CPUs, but the volume is on a: the kernel waits for a, saying so.
    const waiting = await ask('waiting', 1, [data]);
    expect(waiting).toMatchObject({ state: 'queued', node: null });
    expect(waiting.queue?.reason).toBe(
      'waiting for 1 CPU and 1 GiB of memory on node a (it holds its volumes): 0 ahead',
    );
    // The machine picker says the same before anyone asks.
    const small = { cpu: 1, memoryMiB: GiB };
    expect(await c.scheduler.assess(ws, small, { volumes: [data] })).toEqual({
      verdict: 'queue',
      reason: 'would wait for 1 CPU and 1 GiB of memory on node a, which holds its volumes: all in use',
    });
    expect((await c.scheduler.assess(ws, small)).verdict).toBe('now');
    // Kernels without volumes are not held up: they go to b.
    expect(await ask('free', 1)).toMatchObject({ state: 'starting', node: { id: 'b' } });
    // Room on a: the waiting kernel starts there.
    await c.scheduler.stop(first.id);
    expect(await c.scheduler.get(waiting.id)).toMatchObject({ state: 'starting', node: { id: 'a' } });
  });

  it('refuses at once what the volume node can never hold, and volumes split across nodes', async () => {
    const { volume, ask, homeOf } = await twoNodes();
    const data = await volume('data');
    await ask('first', 1, [data]);
    expect(await homeOf(data)).toBe('a');
    // 8 CPUs fit node b, never node a.
    const big = await refusal(ask('big', 8, [data]));
    expect(big.code).toBe('VALIDATION_FAILED');
    expect(big.message).toMatch(/^This machine cannot run on node a, which holds its volumes: .*8 CPUs/);
    // A second volume first used by a kernel that only fits b lives on b.
    const models = await volume('models');
    expect(await ask('wide', 8, [models])).toMatchObject({ state: 'starting', node: { id: 'b' } });
    expect(await homeOf(models)).toBe('b');
    const both = await refusal(ask('both', 1, [data, models]));
    expect(both.code).toBe('VALIDATION_FAILED');
    expect(both.message).toMatch(
      /data on node a, models on node b.*one kernel can mount volumes of one node only/,
    );
  });

  it("stops kernels waiting for a lost volume node, and refuses new ones with the node's reason", async () => {
    const { c, volume, ask } = await twoNodes({ heartbeatTimeoutMs: 1000 });
    const data = await volume('data');
    await ask('first', 1, [data]);
    await ask('filler', 3);
    const waiting = await ask('waiting', 1, [data]);
    expect(waiting.state).toBe('queued');
    // Node a stops answering; b keeps beating.
    await new Promise((resolve) => setTimeout(resolve, 1300));
    await c.scheduler.heartbeat('b');
    expect((await c.scheduler.detectLostNodes()).nodes).toEqual(['a']);
    const stopped = await c.scheduler.get(waiting.id);
    expect(stopped).toMatchObject({ state: 'stopped', stop: { code: 'node_lost' } });
    expect(stopped.stop?.reason).toMatch(/^Lost: node a stopped answering/);
    const refused = await refusal(ask('later', 1, [data]));
    expect(refused.code).toBe('CONFLICT');
    const workspaceId = (await c.scheduler.get(waiting.id)).workspaceId;
    expect(
      await c.scheduler.assess(workspaceId, { cpu: 1, memoryMiB: GiB }, { volumes: [data] }),
    ).toMatchObject({ verdict: 'refused', reason: refused.message });
    expect(refused.message).toMatch(
      /^The volume data lives on node a, which is offline \(node a stopped answering .*\)\. Volumes do not move between nodes/,
    );
    expect(await c.scheduler.volumeNode((await c.scheduler.get(waiting.id)).workspaceId, data)).toMatchObject(
      { id: 'a', state: 'lost' },
    );
  });

  it('gives a volume nothing has used yet the longest-registered node for the file browser', async () => {
    const { c, ws, volume, ask } = await twoNodes();
    const notes = await volume('notes');
    expect(await ask('filler', 4)).toMatchObject({ node: { id: 'a' } });
    expect(await c.scheduler.volumeNode(ws, notes)).toMatchObject({ id: 'a', state: 'active' });
    // From then on kernels mounting it run on a only: with a full, one waits although b is free.
    expect(await ask('k', 1, [notes])).toMatchObject({ state: 'queued' });
    const other = await c.workspace();
    await expect(c.scheduler.volumeNode(other, notes)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('the /workspace folder as a placement constraint', () => {
  /** `twoNodes()` plus requests that mount /workspace, as every gateway sandbox does. */
  async function withDisk(options: Parameters<typeof createTestCluster>[1] = {}) {
    const setup = await twoNodes(options);
    const { c, ws } = setup;
    const run = (ownerId: string, cpu: number, volumes: string[] = [], workspaceId = ws) =>
      c.scheduler.request({
        workspaceId,
        kind: 'kernel',
        ownerId,
        resources: { cpu, memoryMiB: GiB },
        volumes,
        mountsWorkspace: true,
      });
    const diskOf = async (workspaceId = ws) =>
      (await clusters.database.db.workspaceDisk.findUnique({ where: { workspaceId } }))?.nodeId ?? null;
    return { ...setup, run, diskOf };
  }

  it('runs every container of a workspace on the node holding its /workspace, waiting there when it is full', async () => {
    const { c, ws, run, diskOf } = await withDisk();
    expect(await diskOf()).toBeNull();
    // Best fit puts the first kernel on the small node a; the workspace's /workspace lives there from now.
    const first = await run('first', 1);
    expect(first).toMatchObject({ state: 'starting', node: { id: 'a' } });
    expect(await diskOf()).toBe('a');
    // The file browser's /workspace is served by that node too.
    expect(await c.scheduler.workspaceDiskNode(ws)).toMatchObject({ id: 'a', state: 'active' });
    expect(await run('second', 3)).toMatchObject({ state: 'starting', node: { id: 'a' } });
    // a is full and b has 64 free CPUs, but this workspace's files are on a: the next kernel waits for a.
    const waiting = await run('waiting', 1);
    expect(waiting).toMatchObject({ state: 'queued', node: null });
    expect(waiting.queue?.reason).toBe(
      'waiting for 1 CPU and 1 GiB of memory on node a (it holds /workspace): 0 ahead',
    );
    expect(await c.scheduler.assess(ws, { cpu: 1, memoryMiB: GiB }, { mountsWorkspace: true })).toEqual({
      verdict: 'queue',
      reason: 'would wait for 1 CPU and 1 GiB of memory on node a, which holds /workspace: all in use',
    });
    // More than node a can ever hold is refused at once, naming why b does not count.
    const big = await refusal(run('big', 8));
    expect(big.message).toMatch(/^This machine cannot run on node a, which holds \/workspace: .*8 CPUs/);
    // Another workspace is not held up: its first kernel goes to b, and its /workspace lives there.
    const other = await c.workspace('TEAM');
    expect(await run('other', 1, [], other)).toMatchObject({ state: 'starting', node: { id: 'b' } });
    expect(await diskOf(other)).toBe('b');
    // Room on a: the waiting kernel starts there.
    await c.scheduler.stop(first.id);
    expect(await c.scheduler.get(waiting.id)).toMatchObject({ state: 'starting', node: { id: 'a' } });
  });

  it('keeps named volumes first used by the file browser beside /workspace, and refuses a kernel that would need both nodes', async () => {
    const { c, ws, volume, ask, run, homeOf, diskOf } = await withDisk();
    // The first kernel fits only b, so /workspace lives on b.
    expect(await run('wide', 8)).toMatchObject({ node: { id: 'b' } });
    expect(await diskOf()).toBe('b');
    // A volume first opened in the file browser goes where /workspace is, not to the oldest node a.
    const notes = await volume('notes');
    expect(await c.scheduler.volumeNode(ws, notes)).toMatchObject({ id: 'b' });
    expect(await run('notes', 1, [notes])).toMatchObject({ state: 'starting', node: { id: 'b' } });
    // A volume placed on a by a request that does not mount /workspace (an older record) cannot be
    // mounted together with this workspace's /workspace: refused, saying what would work.
    const old = await volume('old');
    expect(await ask('old', 1, [old])).toMatchObject({ node: { id: 'a' } });
    expect(await homeOf(old)).toBe('a');
    const split = await refusal(run('split', 1, [old]));
    expect(split.code).toBe('VALIDATION_FAILED');
    expect(split.message).toBe(
      "The volume old lives on node a but this workspace's /workspace folder lives on node b, and neither moves between nodes: start this kernel without this volume.",
    );
  });

  it('refuses new containers while the node holding /workspace is lost, and ends those waiting for it', async () => {
    const { c, ws, run } = await withDisk({ heartbeatTimeoutMs: 1000 });
    await run('first', 1);
    await run('filler', 3);
    const waiting = await run('waiting', 1);
    expect(waiting.state).toBe('queued');
    await new Promise((resolve) => setTimeout(resolve, 1300));
    await c.scheduler.heartbeat('b');
    expect((await c.scheduler.detectLostNodes()).nodes).toEqual(['a']);
    expect(await c.scheduler.get(waiting.id)).toMatchObject({
      state: 'stopped',
      stop: { code: 'node_lost' },
    });
    // Node b is free, but starting there would show an empty /workspace: refused with the reason.
    const refused = await refusal(run('later', 1));
    expect(refused.code).toBe('CONFLICT');
    expect(refused.message).toMatch(
      /^This workspace's \/workspace folder lives on node a, which is offline \(node a stopped answering .*\)\. It does not move between nodes: its kernels start again once that node is back\.$/,
    );
    expect(await c.scheduler.assess(ws, { cpu: 1, memoryMiB: GiB }, { mountsWorkspace: true })).toMatchObject(
      { verdict: 'refused', reason: refused.message },
    );
    expect(await c.scheduler.workspaceDiskNode(ws)).toMatchObject({ id: 'a', state: 'lost' });
    // When a comes back, the workspace's kernels run there again.
    await c.node('a', [], { cpu: 4, memoryMiB: 8 * GiB });
    expect(await run('back', 1)).toMatchObject({ state: 'starting', node: { id: 'a' } });
  });
});
