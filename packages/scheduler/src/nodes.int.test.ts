import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { createDb } from '@kiln/db';
import { createTestDatabase, type TestDatabase } from '@kiln/db/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestCluster, type TestCluster } from '../test/cluster.ts';
import { discoverGpus } from './gpu-inventory.ts';
import { createScheduler } from './scheduler.ts';

let database: TestDatabase;
let cluster: TestCluster | undefined;
const children: ChildProcess[] = [];
beforeAll(async () => {
  database = await createTestDatabase({ max: 6 });
});
afterEach(async () => {
  for (const child of children.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await cluster?.close();
  cluster = undefined;
});
afterAll(() => database?.drop());

async function start(options: Parameters<typeof createTestCluster>[1] = {}): Promise<TestCluster> {
  cluster = await createTestCluster(database, options);
  return cluster;
}

/** Starts a real node process that registers itself and heartbeats until killed. */
async function startNodeProcess(nodeId: string): Promise<ChildProcess> {
  const script = fileURLToPath(new URL('../test/heartbeat-node.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script, database.url, nodeId, '200'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const registered = new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('registered')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`node process exited with ${code}: ${output}`)));
  });
  await registered;
  return child;
}

describe('nodes', () => {
  it('labels declared GPUs as declared and reports what is free', async () => {
    const c = await start();
    await c.node('dev', [{ type: 'H100', count: 2 }], { cpu: 8, memoryMiB: 16_384 });
    const ws = await c.workspace();
    await c.scheduler.request({
      workspaceId: ws,
      kind: 'kernel',
      ownerId: 'nb',
      resources: { cpu: 2, memoryMiB: 4096, gpu: 'H100' },
    });
    const [node] = await c.scheduler.listNodes();
    expect(node).toMatchObject({
      id: 'dev',
      state: 'active',
      gpuSource: 'declared',
      gpuNote: 'declared inventory: not probed from hardware',
      free: { cpu: 6, memoryMiB: 12_288, gpus: { H100: 1 } },
    });
    expect(node?.gpus.map((gpu) => [gpu.index, gpu.type, gpu.declared, gpu.containerId !== null])).toEqual([
      [0, 'H100', true, true],
      [1, 'H100', true, false],
    ]);
  });

  it('counts the memory a gateway holds for warm spares: placement leaves it alone until the spares go', async () => {
    const c = await start();
    await c.node('pooled', [], { cpu: 8, memoryMiB: 4096 });
    const ws = await c.workspace();
    // Warm spares using 2 GiB: that much of the node is not free, whatever the containers hold.
    await c.scheduler.heartbeat('pooled', { reservedMemoryMiB: 2048 });
    expect((await c.scheduler.listNodes())[0]).toMatchObject({
      reservedMemoryMiB: 2048,
      free: { memoryMiB: 2048 },
    });
    const ask = (ownerId: string) =>
      c.scheduler.request({
        workspaceId: ws,
        kind: 'kernel',
        ownerId,
        resources: { cpu: 1, memoryMiB: 1536 },
      });
    expect((await ask('first')).state).toBe('starting');
    const second = await ask('second');
    expect(second.state).toBe('queued');
    expect(second.queue?.reason).toMatch(/waiting for 1 CPU/);
    // The gateway drops its spares (its next heartbeat says so): the waiting kernel gets the room.
    await c.scheduler.heartbeat('pooled', { reservedMemoryMiB: 0 });
    await c.scheduler.drainQueue();
    expect((await c.scheduler.get(second.id)).state).toBe('starting');
    // A heartbeat without a report keeps the last one; nonsense is refused.
    await c.scheduler.heartbeat('pooled');
    expect((await c.scheduler.listNodes())[0]?.reservedMemoryMiB).toBe(0);
    await expect(c.scheduler.heartbeat('pooled', { reservedMemoryMiB: -1 })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
  });

  it('returns the containers a re-registering node should have, and keeps their GPUs', async () => {
    const c = await start();
    await c.node('gw', [{ type: 'A10', count: 2 }]);
    const ws = await c.workspace();
    const held = await c.scheduler.request({
      workspaceId: ws,
      kind: 'kernel',
      ownerId: 'nb',
      resources: { cpu: 1, memoryMiB: 1024, gpu: 'A10' },
    });
    const again = await c.scheduler.registerNode({
      id: 'gw',
      url: 'http://127.0.0.1:2',
      cpu: 32,
      memoryMiB: 65_536,
      gpus: await discoverGpus({ declared: [{ type: 'A10', count: 4 }] }),
    });
    expect(again.containers.map((container) => container.id)).toEqual([held.id]);
    expect(again.node).toMatchObject({ url: 'http://127.0.0.1:2', cpu: 32, free: { gpus: { A10: 3 } } });
    await expect(
      c.scheduler.registerNode({
        id: 'gw',
        url: 'http://127.0.0.1:2',
        cpu: 32,
        memoryMiB: 65_536,
        gpus: { source: 'none', devices: [] },
      }),
    ).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringMatching(/no longer reports GPU 0/) });
    await expect(
      c.scheduler.registerNode({
        id: '../etc',
        url: 'ftp://x',
        cpu: 1,
        memoryMiB: 1,
        gpus: { source: 'none', devices: [] },
      }),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  it('detects a node killed with kill -9, marks its containers lost with the reason, and frees their GPUs', async () => {
    const c = await start({ heartbeatTimeoutMs: 3000 });
    await startNodeProcess('doomed');
    await c.node('steady', [], { cpu: 8 });
    const beat = setInterval(() => void c.scheduler.heartbeat('steady').catch(() => undefined), 200);
    try {
      const ws = await c.workspace();
      const other = await c.workspace();
      const ask = (owner: string, resources: object) =>
        c.scheduler.request({ workspaceId: ws, kind: 'kernel', ownerId: owner, resources });
      const gpu = await ask('gpu', { cpu: 1, memoryMiB: 1024, gpu: 'T4' });
      const sleeper = await ask('sleeper', { cpu: 1, memoryMiB: 1024, gpu: 'T4' });
      const cpu = await ask('cpu', { cpu: 1, memoryMiB: 1024 });
      expect([gpu.node?.id, sleeper.node?.id, cpu.node?.id]).toEqual(['doomed', 'doomed', 'steady']);
      await c.scheduler.markRunning(gpu.id);
      await c.scheduler.markRunning(sleeper.id);
      await c.scheduler.hibernate(sleeper.id);
      const waiting = await c.scheduler.request({
        workspaceId: other,
        kind: 'kernel',
        ownerId: 'waits',
        resources: { cpu: 1, memoryMiB: 1024, gpu: 'T4:2' },
      });
      expect(waiting.state).toBe('queued');
      expect((await c.scheduler.usage(ws)).used).toEqual({ containers: 2, gpus: 1 });

      const doomed = children[0];
      doomed?.kill('SIGKILL');
      if (doomed) await once(doomed, 'exit');
      const killedAt = Date.now();

      // Two web processes run detection at the same time; each container must change state once.
      const otherDb = createDb(database.url, { max: 2 });
      const peer = createScheduler({ db: otherDb, heartbeatTimeoutMs: 3000 });
      let lost: string[] = [];
      try {
        while (lost.length === 0 && Date.now() - killedAt < 30_000) {
          const [mine, theirs] = await Promise.all([c.scheduler.detectLostNodes(), peer.detectLostNodes()]);
          lost = [...mine.nodes, ...theirs.nodes];
          if (lost.length === 0) await new Promise((resolve) => setTimeout(resolve, 250));
        }
        await peer.close();
      } finally {
        await otherDb.$disconnect();
      }
      expect(lost).toEqual(['doomed']);
      expect(Date.now() - killedAt).toBeGreaterThanOrEqual(2500);

      const nodes = await c.scheduler.listNodes();
      const dead = nodes.find((node) => node.id === 'doomed');
      expect(dead?.state).toBe('lost');
      expect(dead?.lostReason).toMatch(
        /^node doomed stopped answering at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(no heartbeat for 3 s\)$/,
      );
      expect(dead?.gpus.every((device) => device.containerId === null)).toBe(true);
      for (const id of [gpu.id, sleeper.id]) {
        const view = await c.scheduler.get(id);
        expect(view).toMatchObject({ state: 'lost', stop: { code: 'node_lost' } });
        expect(view.stop?.reason).toBe(`Lost: ${dead?.lostReason}`);
      }
      expect((await c.scheduler.get(cpu.id)).state).toBe('starting');
      expect(nodes.find((node) => node.id === 'steady')?.state).toBe('active');
      expect((await c.scheduler.usage(ws)).used).toEqual({ containers: 1, gpus: 0 });
      // Events come out once every older writing transaction has ended (the other node's heartbeats
      // may hold one open for a moment), so they are waited for, not expected on the first read.
      await expect
        .poll(
          async () =>
            (await c.scheduler.eventsAfter(null)).events
              .filter((event) => event.to === 'lost')
              .map((event) => event.containerId)
              .sort(),
          { timeout: 30_000 },
        )
        .toEqual([gpu.id, sleeper.id].sort());

      await expect(c.scheduler.heartbeat('doomed')).rejects.toMatchObject({
        code: 'CONFLICT',
        message: expect.stringMatching(/marked lost .*register it again/),
      });
      // The node comes back: its GPUs are free again, and the request that waited for them gets them.
      await c.node('doomed', [{ type: 'T4', count: 2 }]);
      expect(await c.scheduler.get(waiting.id)).toMatchObject({
        state: 'starting',
        node: { id: 'doomed' },
        gpu: { count: 2 },
      });
    } finally {
      clearInterval(beat);
    }
  });
});
