import { randomBytes } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '@kiln/db/testing';
import { type JupyterMessage, workspaceToken } from '@kiln/kernel-protocol/client';
import { createScheduler, discoverGpus, type Scheduler } from '@kiln/scheduler';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeDriver } from '../../test/fake-driver.ts';
import { eventually } from '../../test/harness.ts';
import { createGateway, type Gateway } from '../http/gateway.ts';
import { createSchedulerNode, type SchedulerNode } from './scheduler-node.ts';

const SECRET = 'node-test-secret-0123456789';
let database: TestDatabase;
const cleanups: Array<() => Promise<void>> = [];

beforeAll(async () => {
  database = await createTestDatabase({ max: 6 });
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await database.db.$executeRaw`TRUNCATE "ContainerEvent", "NodeGpu", "Container", "Node" CASCADE`;
});
afterAll(() => database?.drop());

async function workspace(): Promise<string> {
  const suffix = randomBytes(4).toString('hex');
  return (await database.db.workspace.create({ data: { name: `ws ${suffix}`, slug: `ws-${suffix}` } })).id;
}

/** A gateway joined to the scheduler as `id`, with a declared inventory. */
async function startNode(
  scheduler: Scheduler,
  id: string,
  size: { cpu: number; memoryMiB: number },
  heartbeatMs = 100,
  reservedMemoryMiB?: () => number,
): Promise<{ gateway: Gateway; node: SchedulerNode; url: string; driver: FakeDriver }> {
  const driver = new FakeDriver();
  const node = createSchedulerNode({
    scheduler,
    identity: { ...size, gpus: await discoverGpus({ declared: [] }) },
    heartbeatMs,
    reservedMemoryMiB,
    log: () => undefined,
  });
  const gateway = createGateway({
    driver,
    token: SECRET,
    admission: node.admission,
    kernelInfoTimeoutMs: 5000,
  });
  const { url } = await gateway.listen(0);
  await node.start({ id, url }, gateway.kernels);
  cleanups.push(async () => {
    await gateway.close();
    await node.close();
  });
  return { gateway, node, url, driver };
}

async function post(url: string, token: string, body: unknown) {
  const response = await fetch(`${url}/api/kernels`, {
    method: 'POST',
    headers: { authorization: `token ${token}` },
    body: JSON.stringify(body),
  });
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON bodies
  const json: any = await response.json();
  return { status: response.status, json };
}

/**
 * Declares node-a lost once it has been silent past the timeout. Heartbeats come every 1.5 s against a
 * 300 ms timeout, so a detection run just after a heartbeat finds nothing: detection is repeated, as the
 * web's timer repeats it, instead of expecting the first run to land in a silent stretch.
 */
async function declaredLost(scheduler: Scheduler) {
  let result: Awaited<ReturnType<Scheduler['detectLostNodes']>> | undefined;
  await eventually(async () => {
    result = await scheduler.detectLostNodes();
    return result.nodes.length > 0;
  }, 30_000);
  expect(result?.nodes).toEqual(['node-a']);
  return result as NonNullable<typeof result>;
}

describe('a gateway as a scheduler node', () => {
  it('reports the memory its warm spares hold with each heartbeat, and placement leaves it alone', async () => {
    const scheduler = createScheduler({ db: database.db });
    cleanups.push(() => scheduler.close());
    let spares = 2048;
    await startNode(scheduler, 'node-pool', { cpu: 4, memoryMiB: 4096 }, 100, () => spares);
    await eventually(async () => (await scheduler.listNodes())[0]?.reservedMemoryMiB === 2048, 10_000);
    expect((await scheduler.listNodes())[0]?.free.memoryMiB).toBe(2048);
    const ws = await workspace();
    const ask = (ownerId: string, memoryMiB: number) =>
      scheduler.request({ workspaceId: ws, kind: 'kernel', ownerId, resources: { cpu: 1, memoryMiB } });
    // More than the node has besides its spares can never be placed: refused at once, saying why.
    await expect(ask('huge', 3072)).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      message: expect.stringMatching(/the largest has 4 CPUs and 2 GiB; its warm spares hold 2 GiB more/),
    });
    expect((await ask('first', 1536)).state).toBe('starting');
    const asked = await ask('second', 1536);
    expect(asked.state).toBe('queued');
    spares = 0;
    await eventually(async () => {
      await scheduler.drainQueue();
      return (await scheduler.get(asked.id)).state === 'starting';
    }, 10_000);
  });

  it('starts only containers placed on it, with the resources the scheduler granted', async () => {
    const scheduler = createScheduler({ db: database.db });
    cleanups.push(() => scheduler.close());
    const a = await startNode(scheduler, 'node-a', { cpu: 2, memoryMiB: 4096 });
    const ws = await workspace();
    const other = await workspace();
    const token = workspaceToken(SECRET, ws);

    const refused = await post(a.url, token, {});
    expect(refused.status).toBe(400);
    expect(refused.json.message).toMatch(/placed through Kiln|containerId is required/);

    const container = await scheduler.request({
      workspaceId: ws,
      kind: 'kernel',
      ownerId: 'notebook-1',
      resources: { cpu: 2, memoryMiB: 1024 },
    });
    expect(container).toMatchObject({ state: 'starting', node: { id: 'node-a', url: a.url } });
    // The body's resources are ignored: what runs is what the scheduler granted.
    const foreign = await post(a.url, workspaceToken(SECRET, other), { containerId: container.id });
    expect(foreign.status).toBe(404);
    const started = await post(a.url, token, {
      containerId: container.id,
      resources: { cpu: 2, memoryMiB: 4096 },
    });
    expect(started.status).toBe(201);
    expect(started.json).toMatchObject({
      id: container.id,
      resources: { cpu: 2, memoryMiB: 1024, gpu: null },
    });
    expect((await scheduler.get(container.id)).state).toBe('running');

    // The node is full: the next request waits, and starts once the first kernel shuts down.
    const second = await scheduler.request({
      workspaceId: ws,
      kind: 'kernel',
      ownerId: 'notebook-2',
      resources: { cpu: 1, memoryMiB: 512 },
    });
    expect(second.state).toBe('queued');
    expect(second.queue?.reason).toMatch(/CPU/);
    const again = await post(a.url, token, { containerId: container.id });
    expect(again.status).toBe(409);
    await fetch(`${a.url}/api/kernels/${container.id}`, {
      method: 'DELETE',
      headers: { authorization: `token ${token}` },
    });
    await eventually(async () => (await scheduler.get(container.id)).state === 'stopped', 30_000);
    // The gateway's scheduler freed the CPU; the queue pass after the stop placed the waiting kernel.
    await eventually(async () => (await scheduler.get(second.id)).state === 'starting', 30_000);
  }, 60_000);

  it('marks a start that failed as start_failed with the reason, freeing the node', async () => {
    const scheduler = createScheduler({ db: database.db });
    cleanups.push(() => scheduler.close());
    const a = await startNode(scheduler, 'node-a', { cpu: 1, memoryMiB: 2048 });
    const ws = await workspace();
    const container = await scheduler.request({
      workspaceId: ws,
      kind: 'kernel',
      ownerId: 'nb',
      resources: { cpu: 1, memoryMiB: 1024 },
    });
    a.driver.failNext = new Error('runsc: image missing');
    const failed = await post(a.url, workspaceToken(SECRET, ws), { containerId: container.id });
    expect(failed.status).toBe(500);
    const view = await scheduler.get(container.id);
    expect(view).toMatchObject({ state: 'stopped', stop: { code: 'start_failed' } });
    expect(view.stop?.reason).toMatch(/image missing/);
    expect((await scheduler.listNodes())[0]?.free.cpu).toBe(1);
  }, 60_000);

  it('when marked lost, registers again and keeps the kernels it still runs: their containers come back', async () => {
    const scheduler = createScheduler({ db: database.db, heartbeatTimeoutMs: 300 });
    cleanups.push(() => scheduler.close());
    // Heartbeats slower than the timeout: the scheduler declares the node lost between two of them.
    const a = await startNode(scheduler, 'node-a', { cpu: 2, memoryMiB: 4096 }, 1500);
    const ws = await workspace();
    const container = await scheduler.request({
      workspaceId: ws,
      kind: 'kernel',
      ownerId: 'nb',
      resources: { cpu: 1, memoryMiB: 1024 },
    });
    expect((await post(a.url, workspaceToken(SECRET, ws), { containerId: container.id })).status).toBe(201);
    const lost = await declaredLost(scheduler);
    // Read from what the declaration returned: the node's next heartbeat may already bring it back.
    const transition = lost.containers.find((change) => change.containerId === container.id);
    expect(transition).toMatchObject({ to: 'lost' });
    expect(transition?.reason).toMatch(/node-a stopped answering/);
    // Its next heartbeat finds it lost: it registers again reporting the kernel alive, which comes back.
    await eventually(async () => (await scheduler.get(container.id)).state === 'running', 30_000);
    expect((await scheduler.get(container.id)).stop).toBeNull();
    expect(a.gateway.kernels.all().map((kernel) => kernel.id)).toEqual([container.id]);
    expect((await scheduler.listNodes())[0]).toMatchObject({ state: 'active', free: { cpu: 1 } });
  }, 60_000);

  it('stops, with the reason, a kernel whose container could not come back', async () => {
    const scheduler = createScheduler({
      db: database.db,
      heartbeatTimeoutMs: 300,
      plans: { STARTER: { maxContainers: 1 } },
    });
    cleanups.push(() => scheduler.close());
    const a = await startNode(scheduler, 'node-a', { cpu: 2, memoryMiB: 4096 }, 1500);
    const ws = await workspace();
    const request = (ownerId: string) =>
      scheduler.request({ workspaceId: ws, kind: 'kernel', ownerId, resources: { cpu: 1, memoryMiB: 1024 } });
    const container = await request('nb');
    expect((await post(a.url, workspaceToken(SECRET, ws), { containerId: container.id })).status).toBe(201);
    await declaredLost(scheduler);
    // While it is lost, the workspace uses its one container elsewhere.
    await scheduler.registerNode({
      id: 'node-b',
      url: 'http://127.0.0.1:1/node-b',
      cpu: 2,
      memoryMiB: 4096,
      gpus: { source: 'none', devices: [] },
    });
    expect((await request('other')).node?.id).toBe('node-b');

    await eventually(() => a.gateway.kernels.all().length === 0, 30_000);
    const view = await scheduler.get(container.id);
    expect(view.state).toBe('stopped');
    expect(view.stop?.reason).toMatch(
      /came back with this kernel alive, but its workspace already runs as many/,
    );
    // Whoever asks for it is told why it is gone.
    expect(() => a.gateway.kernels.get(ws, container.id)).toThrow(/came back with this kernel alive/);
  }, 60_000);

  it("gives a hibernated kernel's room back, and queues its wake-up while the room is taken", async () => {
    const scheduler = createScheduler({ db: database.db });
    cleanups.push(() => scheduler.close());
    const a = await startNode(scheduler, 'node-a', { cpu: 1, memoryMiB: 4096 });
    const ws = await workspace();
    const token = workspaceToken(SECRET, ws);
    const request = (ownerId: string) =>
      scheduler.request({ workspaceId: ws, kind: 'kernel', ownerId, resources: { cpu: 1, memoryMiB: 1024 } });
    const sleeper = await request('sleeper');
    expect((await post(a.url, token, { containerId: sleeper.id })).status).toBe(201);
    const kernel = a.gateway.kernels.get(ws, sleeper.id);

    await kernel.hibernate();
    expect((await scheduler.get(sleeper.id)).state).toBe('hibernated');
    expect((await scheduler.listNodes())[0]?.free.cpu).toBe(1);
    await kernel.wake();
    expect((await scheduler.get(sleeper.id)).state).toBe('running');

    // Asleep again, its CPU goes to another kernel: opening the notebook queues its wake-up for room on
    // this node (where its checkpoint is), and the client is told where it stands.
    await kernel.hibernate();
    const other = await request('other');
    expect(other.state).toBe('starting');
    const seen: JupyterMessage[] = [];
    const peer = {
      sessionId: 'nb-session',
      send: (m: JupyterMessage) => seen.push(m),
      close: () => undefined,
    };
    kernel.attach(peer);
    const queued = () =>
      seen.find((m) => m.header.msg_type === 'status' && m.content.kiln_queue !== undefined)?.content
        .kiln_queue as { position: number; reason: string } | undefined;
    await eventually(() => queued() !== undefined, 10_000);
    expect(queued()).toMatchObject({
      position: 1,
      reason: expect.stringMatching(/waiting for 1 CPU.*0 ahead/),
    });
    expect((await scheduler.get(sleeper.id)).state).toBe('queued');
    expect(kernel.isDead).toBe(false);
    // The other kernel ends: the queue places the sleeper back on its node and it wakes with its state.
    await scheduler.stop(other.id);
    await scheduler.drainQueue();
    await kernel.wake();
    expect(kernel.isDead).toBe(false);
    expect((await scheduler.get(sleeper.id)).state).toBe('running');

    // Once more, and this time the wait is given up (cancelled, as a timeout would): it says why.
    kernel.detach(peer);
    await kernel.hibernate();
    const third = await request('third');
    expect(third.state).toBe('starting');
    const waking = kernel.wake();
    await eventually(async () => (await scheduler.get(sleeper.id)).state === 'queued', 10_000);
    await scheduler.cancel(sleeper.id, { reason: 'Cancelled while waiting for a machine' });
    await expect(waking).rejects.toThrow(/did not get it: Cancelled while waiting/);
    expect(kernel.isDead).toBe(true);
    expect(kernel.reason).toMatch(/Could not wake from hibernation: It waited for room/);
  }, 60_000);
});
