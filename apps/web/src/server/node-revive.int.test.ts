import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CollabServer, createCollabServer, createMemoryStore } from '@kiln/collab';
import { createTestDatabase, type TestDatabase } from '@kiln/db/testing';
import {
  createExecutionService,
  type ExecutionService,
  type RunTarget,
  readExecutionState,
} from '@kiln/execution';
import { createNotebookDoc, getCellOutputs, getCells, insertCell } from '@kiln/notebook';
import { createScheduler, type Scheduler } from '@kiln/scheduler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as Y from 'yjs';
import { type GatewayProcess, spawnGatewayProcess } from './gateway-test-nodes.ts';
import { createLostKernels, type LostKernels } from './lost-kernels.ts';
import { createScheduledGateways } from './scheduled-gateway.ts';

// A real gateway process (runsc kernels) joined to the scheduler over real Postgres is killed with
// SIGKILL and kept down past the node timeout, so its kernel is declared lost; restarted, it re-adopts
// the sandbox and the kernel comes back with its variables. Cold kernel starts on a loaded 2-core
// machine take a while: generous timeouts.
const SECRET = `node-revive-${randomBytes(12).toString('hex')}`;
let database: TestDatabase;
let stateRoot: string;
let scheduler: Scheduler;
let collab: CollabServer;
let execution: ExecutionService;
let ticker: NodeJS.Timeout;
let lostKernels: LostKernels;
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

async function notebook(source: string): Promise<{
  id: string;
  doc: Y.Doc;
  connection: Awaited<ReturnType<CollabServer['openDirectConnection']>>;
}> {
  const id = randomUUID();
  const connection = await collab.openDirectConnection(id);
  await connection.transact((doc) => {
    createNotebookDoc({ doc });
    getCells(doc).delete(0, getCells(doc).length);
    insertCell(doc, { id: 'c0', cell_type: 'code', source });
  });
  return { id, doc: connection.document, connection };
}

function outputText(doc: Y.Doc, index = 0): string {
  const cell = getCells(doc).get(index);
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
  stateRoot = await mkdtemp(join(tmpdir(), 'kiln-node-revive-'));
  scheduler = createScheduler({
    db: database.db,
    heartbeatTimeoutMs: 5000,
    // As the web app wires it: a lost kernel waits for its node, and is watched for coming back.
    onTransition: (t) => {
      if (t.to !== 'lost' || t.kind !== 'kernel') return;
      const away = `The machine running this kernel stopped answering (${t.reason}).`;
      if (execution.kernelAway(t.ownerId, t.containerId, away)) lostKernels.add(t.ownerId, t.containerId);
    },
  });
  ticker = setInterval(() => void scheduler.tick().catch(() => undefined), 500);
  collab = createCollabServer({ store: createMemoryStore(), unloadDelayMs: 0, onError: () => {} });
  execution = createExecutionService({
    openDocument: (id) => collab.openDirectConnection(id),
    gateway: createScheduledGateways({ scheduler, secret: SECRET, defaults: { cpu: 1, memoryMiB: 1024 } }),
  });
  lostKernels = createLostKernels({
    scheduler,
    intervalMs: 500,
    onBack: (notebookId, kernelId) => execution.kernelBack(notebookId, kernelId),
    onGone: (notebookId, kernelId, reason) => execution.kernelLost(notebookId, kernelId, reason),
  });
  await startNode('node-r');
}, 300_000);

afterAll(async () => {
  clearInterval(ticker);
  await lostKernels?.close();
  await execution?.dispose();
  await Promise.all([...nodes.values()].map((node) => node.stop()));
  await scheduler?.close();
  await collab?.close();
  await database?.drop();
  if (stateRoot) await rm(stateRoot, { recursive: true, force: true });
}, 300_000);

describe('a gateway restart slower than the node timeout', () => {
  it('keeps the kernel: declared lost, it comes back with its variables and the notebook is told', async () => {
    const suffix = randomBytes(4).toString('hex');
    const workspace = await database.db.workspace.create({
      data: { name: `ws ${suffix}`, slug: `ws-${suffix}` },
    });
    const user = { userId: randomUUID(), name: 'Ada' };
    const nb = await notebook("x = 41; print('set', x)");
    const run = (target: RunTarget) =>
      execution.run({ notebookId: nb.id, workspaceId: workspace.id, target, user });
    await run({ kind: 'all' });
    await execution.whenIdle(nb.id);
    expect(outputText(nb.doc)).toContain('set 41');
    const [container] = await scheduler.list({ ownerId: nb.id });
    expect(container?.state).toBe('running');

    // A cell runs when the gateway dies.
    await nb.connection.transact((doc) => {
      insertCell(doc, {
        id: 'c1',
        cell_type: 'code',
        source: "import time\nprint('before', flush=True)\ntime.sleep(15)\nprint('after')",
      });
    });
    await run({ kind: 'cells', cellIds: ['c1'] });
    await until(() => outputText(nb.doc, 1).includes('before'), 'the cell to run');
    await nodes.get('node-r')?.stop('SIGKILL');
    await until(
      async () => (await scheduler.get(container?.id as string)).state === 'lost',
      'the kernel to be lost',
    );
    // The notebook waits for it rather than calling it dead.
    await until(() => readExecutionState(nb.doc)?.kernel.status === 'reconnecting', 'the notebook to wait');
    expect(readExecutionState(nb.doc)?.kernel.reason).toMatch(/stopped answering/);

    // Back (same id and state dir, another port): it re-adopts the sandbox, and the container revives.
    await startNode('node-r');
    await until(
      async () => (await scheduler.get(container?.id as string)).state === 'running',
      'the revival',
    );
    await until(() => readExecutionState(nb.doc)?.kernel.status === 'idle', 'the notebook to re-attach');
    expect(readExecutionState(nb.doc)?.kernel.reason).toMatch(/The kernel is back/);
    // The cell that was running says the kernel is back rather than dead; the finished one is untouched.
    await until(() => outputText(nb.doc, 1).includes('The kernel is back'), 'the running cell to be told');
    expect(outputText(nb.doc, 1)).not.toMatch(/KernelDied/);
    expect(outputText(nb.doc)).toBe('set 41\n');

    // Its variables are intact: the same kernel answers.
    await nb.connection.transact((doc) => {
      insertCell(doc, { id: 'c2', cell_type: 'code', source: 'print(x + 1)' });
    });
    await run({ kind: 'cells', cellIds: ['c2'] });
    await execution.whenIdle(nb.id);
    expect(outputText(nb.doc, 2)).toContain('42');
    expect((await scheduler.list({ ownerId: nb.id })).map((view) => view.id)).toEqual([container?.id]);
  }, 600_000);
});
