import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CollabServer, createCollabServer, createMemoryStore } from '@kiln/collab';
import { createTestDatabase, type TestDatabase } from '@kiln/db/testing';
import { createExecutionService, type ExecutionService, readExecutionState } from '@kiln/execution';
import { createNotebookDoc, getCellOutputs, getCells, insertCell } from '@kiln/notebook';
import { createScheduler, type Scheduler } from '@kiln/scheduler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as Y from 'yjs';
import { type GatewayProcess, spawnGatewayProcess } from './gateway-test-nodes.ts';
import { createScheduledGateways } from './scheduled-gateway.ts';

// Real gateway processes (runsc kernels) joined to the scheduler over real Postgres; one is killed
// with SIGKILL. Cold kernel starts on a loaded 2-core machine take a while: generous timeouts.
const SECRET = `node-loss-${randomBytes(12).toString('hex')}`;
let database: TestDatabase;
let stateRoot: string;
let scheduler: Scheduler;
let collab: CollabServer;
let execution: ExecutionService;
let ticker: NodeJS.Timeout;
const nodes = new Map<string, GatewayProcess>();

/** Starts `apps/kernel-gateway` as node `id` (1 CPU, 4 GiB declared) and waits until it registered. */
async function startNode(id: string): Promise<void> {
  const node = spawnGatewayProcess({
    id,
    secret: SECRET,
    stateDir: join(stateRoot, id),
    databaseUrl: database.url,
    env: { KILN_SNAPSHOTS: 'false' },
  });
  nodes.set(id, node);
  await node.registered;
}

async function notebook(source: string): Promise<{ id: string; doc: Y.Doc }> {
  const id = randomUUID();
  const connection = await collab.openDirectConnection(id);
  await connection.transact((doc) => {
    createNotebookDoc({ doc });
    getCells(doc).delete(0, getCells(doc).length);
    insertCell(doc, { id: 'c0', cell_type: 'code', source });
  });
  return { id, doc: connection.document };
}

function outputText(doc: Y.Doc): string {
  const cell = getCells(doc).get(0);
  return getCellOutputs(cell)
    .map((output) =>
      output.output_type === 'stream' ? String(output.text) : `${output.ename ?? ''}: ${output.evalue ?? ''}`,
    )
    .join('');
}

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 180_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

beforeAll(async () => {
  database = await createTestDatabase({ max: 8 });
  stateRoot = await mkdtemp(join(tmpdir(), 'kiln-node-loss-'));
  scheduler = createScheduler({
    db: database.db,
    // Generous: a loaded 2-core machine can delay a heartbeat by seconds.
    heartbeatTimeoutMs: 10_000,
    onTransition: (t) => {
      if (t.to === 'lost') execution.kernelLost(t.ownerId, t.containerId, t.reason ?? 'lost');
    },
  });
  ticker = setInterval(() => void scheduler.tick().catch(() => undefined), 500);
  collab = createCollabServer({ store: createMemoryStore(), unloadDelayMs: 0, onError: () => {} });
  execution = createExecutionService({
    openDocument: (id) => collab.openDirectConnection(id),
    gateway: createScheduledGateways({ scheduler, secret: SECRET, defaults: { cpu: 1, memoryMiB: 1024 } }),
  });
  await Promise.all([startNode('node-a'), startNode('node-b')]);
}, 300_000);

afterAll(async () => {
  clearInterval(ticker);
  await execution?.dispose();
  await Promise.all([...nodes.values()].map((node) => node.stop()));
  await scheduler?.close();
  await collab?.close();
  await database?.drop();
  if (stateRoot) await rm(stateRoot, { recursive: true, force: true });
}, 300_000);

/** A workspace of its own; `run` queues all of a notebook's cells as Ada. */
async function workspaceRunner() {
  const suffix = randomBytes(4).toString('hex');
  const workspace = await database.db.workspace.create({
    data: { name: `ws ${suffix}`, slug: `ws-${suffix}` },
  });
  const user = { userId: randomUUID(), name: 'Ada' };
  return (notebookId: string) =>
    execution.run({ notebookId, workspaceId: workspace.id, target: { kind: 'all' }, user });
}

describe("a workspace's /workspace folder on two nodes", () => {
  it("starts the workspace's next kernel on the node holding its files, though the other node is free", async () => {
    const run = await workspaceRunner();
    const writer = await notebook(
      "open('/workspace/where.txt', 'w').write('written by the first kernel'); print('saved')",
    );
    const reader = await notebook("print(open('/workspace/where.txt').read())");
    await run(writer.id);
    await execution.whenIdle(writer.id);
    expect(outputText(writer.doc)).toContain('saved');
    const home = (await scheduler.list({ ownerId: writer.id }))[0]?.node?.id as string;
    // Its node holds one kernel, and it runs: the reader's kernel waits for that node, not the free one.
    await run(reader.id);
    await until(() => readExecutionState(reader.doc)?.kernel.status === 'queued', 'the reader to queue');
    expect(readExecutionState(reader.doc)?.kernel.queue?.reason).toMatch(
      new RegExp(`on node ${home} \\(it holds /workspace\\)`),
    );
    await execution.shutdown(writer.id);
    await execution.whenIdle(reader.id);
    expect(outputText(reader.doc)).toContain('written by the first kernel');
    expect((await scheduler.list({ ownerId: reader.id, states: ['running'] }))[0]?.node?.id).toBe(home);
    await execution.shutdown(reader.id);
  }, 600_000);
});

describe('a node killed with SIGKILL', () => {
  it('is detected; its kernel is marked lost with a reason the notebook shows, and its room comes back', async () => {
    // Two workspaces: each node has room for one kernel, and a workspace's kernels share its node.
    const runs = new Map<string, (notebookId: string) => Promise<unknown>>();
    const run = (notebookId: string) =>
      (runs.get(notebookId) as (id: string) => Promise<unknown>)(notebookId);
    const first = await notebook("print('first', 6 * 7)");
    const second = await notebook("print('second', 6 * 7)");
    runs.set(first.id, await workspaceRunner());
    runs.set(second.id, await workspaceRunner());

    // Each node has room for one kernel, so the two notebooks land on different nodes.
    await run(first.id);
    await execution.whenIdle(first.id);
    expect(outputText(first.doc)).toContain('first 42');
    await run(second.id);
    await execution.whenIdle(second.id);
    expect(outputText(second.doc)).toContain('second 42');
    const [one, two] = await Promise.all(
      [first, second].map(async ({ id }) => (await scheduler.list({ ownerId: id }))[0]),
    );
    expect(one?.state).toBe('running');
    expect(two?.state).toBe('running');
    expect(one?.node?.id).not.toBe(two?.node?.id);
    const victim = one?.node?.id as string;

    await nodes.get(victim)?.stop('SIGKILL');
    await until(
      () => readExecutionState(first.doc)?.kernel.reason?.includes(`Lost: node ${victim}`) === true,
      'the notebook to show why its kernel was lost',
    );
    expect(readExecutionState(first.doc)?.kernel.status).toBe('dead');
    // The notebook declared its kernel dead and gives its container up (a node coming back with it
    // would otherwise keep it for nobody): lost, then stopped, with the loss's code and reason.
    await until(
      async () => (await scheduler.get(one?.id as string)).state === 'stopped',
      'the notebook to give its container up',
    );
    const lost = await scheduler.get(one?.id as string);
    expect(lost).toMatchObject({ state: 'stopped', stop: { code: 'node_lost' } });
    expect(lost.stop?.reason).toMatch(/stopped answering/);
    const nodesNow = await scheduler.listNodes();
    expect(nodesNow.find((node) => node.id === victim)).toMatchObject({ state: 'lost' });

    // The other node's kernel is untouched. The lost notebook's workspace keeps its files on the lost
    // node: its next start is refused saying so, rather than starting with another /workspace.
    await run(second.id);
    await execution.whenIdle(second.id);
    expect(outputText(second.doc)).toContain('second 42');
    await run(first.id).catch(() => undefined);
    await until(
      () =>
        readExecutionState(first.doc)?.kernel.reason?.includes('/workspace folder lives on node') === true,
      'the next start to be refused',
    ).catch((error) => {
      throw new Error(
        `${error}; kernel state: ${JSON.stringify(readExecutionState(first.doc))}; output: ${outputText(first.doc)}`,
      );
    });
    expect(readExecutionState(first.doc)?.kernel.reason).toMatch(
      new RegExp(
        `lives on node ${victim}, which is offline .*its kernels start again once that node is back`,
      ),
    );

    // The killed node comes back (same id and state dir, reaping its orphaned sandbox): it gets the kernel.
    await startNode(victim);
    await run(first.id);
    await execution.whenIdle(first.id);
    expect(outputText(first.doc)).toContain('first 42');
    const again = (await scheduler.list({ ownerId: first.id, states: ['running'] }))[0];
    expect(again?.node?.id).toBe(victim);
  }, 600_000);
});
