import { createTestDatabase, type TestDatabase } from '@kiln/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCluster, type TestCluster } from '../test/cluster.ts';
import { runPlacers } from '../test/placers.ts';

let database: TestDatabase;
let cluster: TestCluster;
beforeAll(async () => {
  database = await createTestDatabase({ max: 6 });
  cluster = await createTestCluster(database);
});
afterAll(async () => {
  await cluster?.close();
  await database?.drop();
});

const NODE = { cpu: 16, memoryMiB: 65_536 };

/** What the database says is held: every (node, GPU) pair per live container, and use per node. */
async function holdings() {
  const containers = await database.db.container.findMany({
    where: { state: { in: ['starting', 'running'] } },
  });
  const pairs = containers.flatMap((c) => c.gpuIndices.map((index) => `${c.nodeId}/${index}`));
  const perNode = new Map<string, { cpu: number; memoryMiB: number }>();
  for (const c of containers) {
    const use = perNode.get(c.nodeId ?? '') ?? { cpu: 0, memoryMiB: 0 };
    perNode.set(c.nodeId ?? '', { cpu: use.cpu + c.cpu, memoryMiB: use.memoryMiB + c.memoryMiB });
  }
  const gpuRows = await database.db.nodeGpu.findMany({ where: { containerId: { not: null } } });
  return { containers, pairs, perNode, gpuRows };
}

describe('placement from two processes at once', () => {
  it('never hands out one GPU twice or overcommits a node, and loses no capacity', async () => {
    const c = cluster;
    for (const id of ['node-a', 'node-b', 'node-c']) await c.node(id, [{ type: 'H100', count: 8 }], NODE);
    // Several workspaces per process, so the processes contend for nodes rather than queue on one workspace.
    const workspaces: string[] = [];
    for (let n = 0; n < 6; n++) workspaces.push(await c.workspace('TEAM'));
    const mine = (i: number) => workspaces.filter((_, n) => n % 2 === i).join(',');

    // 60 one-GPU requests race for 24 GPUs.
    const gpu = JSON.stringify({ cpu: 0.5, memoryMiB: 1024, gpu: 'H100' });
    const first = await runPlacers(2, (i) => [database.url, mine(i), '30', gpu]);
    expect(first.flatMap((r) => r.failures)).toEqual([]);
    expect(first.every((r) => r.placed.length > 0)).toBe(true);
    expect(first.reduce((sum, r) => sum + r.placed.length, 0)).toBe(24);
    expect(first.reduce((sum, r) => sum + r.refused, 0)).toBe(36);

    // 40 CPU-only requests of 1.5 cores race for the 12 cores left on each node: 8 fit per node.
    const cpu = JSON.stringify({ cpu: 1.5, memoryMiB: 2048 });
    const second = await runPlacers(2, (i) => [database.url, mine(i), '20', cpu]);
    expect(second.flatMap((r) => r.failures)).toEqual([]);
    expect(second.reduce((sum, r) => sum + r.placed.length, 0)).toBe(24);

    const held = await holdings();
    expect(held.pairs).toHaveLength(24);
    expect(new Set(held.pairs).size).toBe(24);
    expect(held.gpuRows.map((row) => `${row.nodeId}/${row.index}`).sort()).toEqual([...held.pairs].sort());
    for (const row of held.gpuRows) {
      const owner = held.containers.find((container) => container.id === row.containerId);
      expect(owner?.nodeId).toBe(row.nodeId);
      expect(owner?.gpuIndices).toContain(row.index);
    }
    expect([...held.perNode.keys()].sort()).toEqual(['node-a', 'node-b', 'node-c']);
    for (const use of held.perNode.values()) {
      expect(use.cpu).toBeLessThanOrEqual(NODE.cpu + 1e-9);
      expect(use.cpu).toBeGreaterThan(NODE.cpu - 1.5);
      expect(use.memoryMiB).toBeLessThanOrEqual(NODE.memoryMiB);
    }
  }, 240_000);
});
