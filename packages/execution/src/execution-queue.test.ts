import { createCollabServer } from '@kiln/collab';
import { findCell } from '@kiln/notebook';
import { afterEach, describe, expect, it } from 'vitest';
import type * as Y from 'yjs';
import { createExecutionService } from './execution-service.ts';
import { readExecutionState } from './execution-state.ts';
import { FakeGateway } from './test-support/fake-gateway.ts';
import { cellView, seedNotebook, waitFor } from './test-support/notebook-fixture.ts';
import type { ExecutionService } from './types.ts';

// Queue ordering only: the kernel is a script here. Kernel behaviour is tested against runsc in *.int.test.ts.

const alice = { userId: 'u-alice', name: 'Alice' };
const bob = { userId: 'u-bob', name: 'Bob' };
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function setup(cells: Parameters<typeof seedNotebook>[2]) {
  const collab = createCollabServer({ onError: () => {}, unloadDelayMs: 0 });
  const gateway = new FakeGateway();
  let now = 1_000;
  const service = createExecutionService({
    gateway: () => gateway,
    openDocument: (id) => collab.openDirectConnection(id),
    clock: () => now++,
  });
  const connection = await seedNotebook(collab, 'nb', cells);
  cleanup.push(() => collab.close());
  cleanup.push(() => connection.disconnect());
  cleanup.push(() => service.dispose());
  return { service, gateway, doc: connection.document };
}

function run(
  service: ExecutionService,
  target: Parameters<ExecutionService['run']>[0]['target'],
  user = alice,
) {
  return service.run({ notebookId: 'nb', workspaceId: 'ws', target, user });
}

function setSource(doc: Y.Doc, cellId: string, source: string) {
  const text = findCell(doc, cellId)?.get('source') as Y.Text;
  doc.transact(() => {
    text.delete(0, text.length);
    text.insert(0, source);
  });
}

describe('execution queue', () => {
  it('runs all code cells in notebook order, showing who queued them', async () => {
    const { service, gateway, doc } = await setup([
      'hold a',
      { cell_type: 'markdown', source: '# title' },
      'b',
      'c',
    ]);
    const ticket = await run(service, { kind: 'all' });
    expect(ticket.cellIds).toEqual(['c0', 'c2', 'c3']);
    await waitFor(() => gateway.holding === 1, 'first cell running');
    const state = readExecutionState(doc);
    expect(state?.running).toMatchObject({ cellId: 'c0', by: alice });
    expect(state?.running?.startedAt).toBeGreaterThan(0);
    expect(state?.queue.map((entry) => [entry.cellId, entry.by.name])).toEqual([
      ['c2', 'Alice'],
      ['c3', 'Alice'],
    ]);
    expect(cellView(doc, 'c0').state).toBe('running');
    expect(cellView(doc, 'c2').state).toBe('queued');
    gateway.release();
    await service.whenIdle('nb');
    expect(gateway.executed).toEqual(['hold a', 'b', 'c']);
    expect(['c0', 'c2', 'c3'].map((id) => cellView(doc, id).count)).toEqual([1, 2, 3]);
    expect(cellView(doc, 'c3')).toMatchObject({ state: 'idle', text: 'c\n' });
    expect(readExecutionState(doc)).toMatchObject({ running: null, queue: [], kernel: { status: 'idle' } });
  });

  it('serves requests first come, first served and does not queue a waiting cell twice', async () => {
    const { service, gateway, doc } = await setup(['hold', 'x', 'y']);
    await run(service, { kind: 'cells', cellIds: ['c0'] });
    await run(service, { kind: 'cells', cellIds: ['c2'] }, bob);
    const again = await run(service, { kind: 'cells', cellIds: ['c1', 'c2'] });
    expect(again.cellIds).toEqual(['c1']);
    expect(readExecutionState(doc)?.queue.map((entry) => `${entry.cellId}:${entry.by.name}`)).toEqual([
      'c2:Bob',
      'c1:Alice',
    ]);
    await waitFor(() => gateway.holding === 1, 'first cell running');
    gateway.release();
    await service.whenIdle('nb');
    expect(gateway.executed).toEqual(['hold', 'y', 'x']);
  });

  it("stops the rest of a request after an error but not other people's requests", async () => {
    const { service, gateway, doc } = await setup(['hold', 'fail', 'after', 'bob']);
    await run(service, { kind: 'cells', cellIds: ['c0', 'c1', 'c2'] });
    await run(service, { kind: 'cells', cellIds: ['c3'] }, bob);
    await waitFor(() => gateway.holding === 1, 'first cell running');
    gateway.release();
    await service.whenIdle('nb');
    expect(gateway.executed).toEqual(['hold', 'fail', 'bob']);
    expect(cellView(doc, 'c1').text).toBe('ValueError: boom');
    expect(cellView(doc, 'c2')).toMatchObject({ state: 'idle', count: null, outputs: [] });
    expect(cellView(doc, 'c3')).toMatchObject({ state: 'idle', text: 'bob\n' });
  });

  it('runs the source a queued cell has when it starts, and clears empty cells without the kernel', async () => {
    const { service, gateway, doc } = await setup(['hold', 'old', 'print(1)']);
    await run(service, { kind: 'all' });
    await waitFor(() => gateway.holding === 1, 'first cell running');
    setSource(doc, 'c1', 'new');
    setSource(doc, 'c2', '   ');
    gateway.release();
    await service.whenIdle('nb');
    expect(gateway.executed).toEqual(['hold', 'new']);
    expect(cellView(doc, 'c2')).toMatchObject({ state: 'idle', count: null, outputs: [] });
  });

  it('selects cells above and below like JupyterLab', async () => {
    const { service, gateway } = await setup(['a', 'b', 'c', 'd']);
    await run(service, { kind: 'above', cellId: 'c2' });
    await service.whenIdle('nb');
    await run(service, { kind: 'below', cellId: 'c2' });
    await service.whenIdle('nb');
    expect(gateway.executed).toEqual(['a', 'b', 'c', 'd']);
    expect(gateway.started).toBe(1);
    await expect(run(service, { kind: 'below', cellId: 'nope' })).rejects.toThrow('No cell with id nope');
  });

  it('interrupt clears the queue for everyone', async () => {
    const { service, gateway, doc } = await setup(['hold', 'b']);
    await run(service, { kind: 'all' });
    await waitFor(() => gateway.holding === 1, 'first cell running');
    await service.interrupt('nb');
    expect(cellView(doc, 'c1').state).toBe('idle');
    expect(readExecutionState(doc)?.queue).toEqual([]);
    gateway.release();
    await service.whenIdle('nb');
    expect(gateway.executed).toEqual(['hold']);
  });

  it('shows why the kernel could not start and drops the queue', async () => {
    const { service, gateway, doc } = await setup(['a', 'b']);
    gateway.refuseStart = 'GPU quota exceeded';
    await run(service, { kind: 'all' });
    await service.whenIdle('nb');
    expect(readExecutionState(doc)?.kernel).toMatchObject({
      status: 'dead',
      reason: 'The kernel could not start: GPU quota exceeded',
    });
    expect(cellView(doc, 'c0')).toMatchObject({
      state: 'idle',
      text: 'KernelStartFailed: The kernel could not start: GPU quota exceeded',
    });
    expect(cellView(doc, 'c1')).toMatchObject({ state: 'idle', outputs: [] });
    gateway.refuseStart = null;
    await run(service, { kind: 'all' });
    await service.whenIdle('nb');
    expect(gateway.executed).toEqual(['a', 'b']);
    expect(readExecutionState(doc)?.kernel).toMatchObject({ status: 'idle', reason: null });
  });

  it("starts the kernel with the first request's resources and starts a new one after shutdown", async () => {
    const { service, gateway, doc } = await setup(['a']);
    const request = { notebookId: 'nb', workspaceId: 'ws', user: alice, target: { kind: 'all' } as const };
    await service.run({ ...request, resources: { cpu: 2, memoryMiB: 4096, gpu: 'A100-80GB' } });
    await service.whenIdle('nb');
    expect(gateway.startBodies).toEqual([{ resources: { cpu: 2, memoryMiB: 4096, gpu: 'A100-80GB' } }]);
    await service.shutdown('nb');
    expect(gateway.shutdowns).toBe(1);
    expect(readExecutionState(doc)?.kernel).toEqual({ status: 'none', reason: null, kernelId: null });
    await service.run({ ...request, resources: { cpu: 1, memoryMiB: 1024 } });
    await service.whenIdle('nb');
    expect(gateway.started).toBe(2);
    expect(gateway.startBodies[1]).toEqual({ resources: { cpu: 1, memoryMiB: 1024 } });
    expect(cellView(doc, 'c0')).toMatchObject({ state: 'idle', text: 'a\n' });
  });

  it('reconnects to the same kernel after its websocket broke', async () => {
    const { service, gateway, doc } = await setup(['a', 'b']);
    await run(service, { kind: 'cells', cellIds: ['c0'] });
    await service.whenIdle('nb');
    gateway.dropConnection();
    // It reconnects on its own, under the same session, without starting a kernel or declaring a death.
    await waitFor(() => gateway.connects === 2, 'reconnected');
    await waitFor(() => readExecutionState(doc)?.kernel.status === 'idle', 'idle again');
    expect(readExecutionState(doc)?.kernel.reason).toBeNull();
    await run(service, { kind: 'cells', cellIds: ['c1'] });
    await service.whenIdle('nb');
    expect(gateway).toMatchObject({ started: 1, connects: 2, executed: ['a', 'b'] });
    expect(readExecutionState(doc)?.kernel).toMatchObject({ status: 'idle', reason: null });
  });

  it('starts the kernel with the env asked for and stores its outputs through the redaction', async () => {
    const { service, gateway, doc } = await setup(['token=s3cr3t-value', 'plain']);
    const redact = (text: string) => text.split('s3cr3t-value').join('********');
    await service.run({
      notebookId: 'nb',
      workspaceId: 'ws',
      target: { kind: 'all' },
      user: alice,
      env: { TOKEN: 's3cr3t-value' },
      redact,
    });
    await service.whenIdle('nb');
    expect(gateway.startBodies).toEqual([{ env: { TOKEN: 's3cr3t-value' } }]);
    expect(cellView(doc, 'c0').text).toBe('token=********\n');
    expect(cellView(doc, 'c1').text).toBe('plain\n');
    // A later run on the same kernel keeps its masking, even without asking for it again.
    setSource(doc, 'c1', 'again s3cr3t-value');
    await run(service, { kind: 'cells', cellIds: ['c1'] });
    await service.whenIdle('nb');
    expect(cellView(doc, 'c1').text).toBe('again ********\n');
  });

  it('masks a value the kernel printed in pieces, across stream messages', async () => {
    const { service, doc } = await setup(['parts:key=s3cr|3t-va|lue done', 'parts:s|3cr3|t', 'parts:ab|s3']);
    const value = 's3cr3t-value';
    // What @kiln/secrets' masker does for one value: mask it whole, hold back an end that may begin it.
    const redact = Object.assign((text: string) => text.split(value).join('********'), {
      heldBack: (text: string) => {
        for (let n = Math.min(value.length - 1, text.length); n > 0; n--)
          if (value.startsWith(text.slice(text.length - n))) return n;
        return 0;
      },
    });
    await service.run({
      notebookId: 'nb',
      workspaceId: 'ws',
      target: { kind: 'all' },
      user: alice,
      env: { TOKEN: value },
      redact,
    });
    await service.whenIdle('nb');
    expect(cellView(doc, 'c0').text).toBe('key=******** done');
    // A piece that only looked like the start of the value is written once the cell ends.
    expect(cellView(doc, 'c1').text).toBe('s3cr3t');
    expect(cellView(doc, 'c2').text).toBe('abs3');
  });

  it('shows a kernel waiting for a machine with its place in the queue, and cancels it without an error', async () => {
    const { service, gateway, doc } = await setup(['a', 'b']);
    gateway.queueAs = { position: 3, ahead: 2, reason: 'waiting for an H100: 2 ahead', deadline: 9_000 };
    await run(service, { kind: 'all' });
    await waitFor(() => readExecutionState(doc)?.kernel.status === 'queued', 'queued kernel shown');
    expect(readExecutionState(doc)?.kernel).toMatchObject({
      reason: 'waiting for an H100: 2 ahead',
      queue: { position: 3, ahead: 2 },
    });
    expect(cellView(doc, 'c0').state).toBe('queued');
    expect(await service.cancelStart('nb')).toBe(true);
    await service.whenIdle('nb');
    expect(readExecutionState(doc)?.kernel).toMatchObject({ status: 'none', reason: null, kernelId: null });
    expect(readExecutionState(doc)?.queue).toEqual([]);
    expect(cellView(doc, 'c0')).toMatchObject({ state: 'idle', text: '' });
    expect(await service.cancelStart('nb')).toBe(false);
    expect(gateway.started).toBe(0);

    // Shutting the notebook down while a start waits gives the wait up instead of waiting it out.
    await run(service, { kind: 'all' });
    await waitFor(() => readExecutionState(doc)?.kernel.status === 'queued', 'queued again');
    await service.shutdown('nb');
    expect(gateway.started).toBe(0);
  });

  it('shows a hibernated kernel waiting for room to wake as queued with its place, and cancels that wait', async () => {
    const { service, gateway, doc } = await setup(['a']);
    await run(service, { kind: 'all' });
    await service.whenIdle('nb');
    const waiting = {
      position: 1,
      ahead: 0,
      reason: 'waiting for 1 CPU and 2 GiB on node-a: 0 ahead',
      deadline: 9,
    };
    gateway.queueWake(waiting);
    await waitFor(() => readExecutionState(doc)?.kernel.status === 'queued', 'the kernel shows as queued');
    expect(readExecutionState(doc)?.kernel).toMatchObject({ reason: waiting.reason, queue: waiting });
    gateway.woke();
    await waitFor(() => readExecutionState(doc)?.kernel.status === 'idle', 'the kernel woke');
    expect(readExecutionState(doc)?.kernel.queue ?? null).toBeNull();

    gateway.queueWake({
      ...waiting,
      position: 2,
      ahead: 1,
      reason: 'waiting for 1 CPU and 2 GiB on node-a: 1 ahead',
    });
    await waitFor(() => readExecutionState(doc)?.kernel.status === 'queued', 'queued again');
    expect(await service.cancelStart('nb')).toBe(true);
    expect(gateway.cancelledQueued).toEqual(['fake-1']);
    await waitFor(
      () => readExecutionState(doc)?.kernel.status === 'dead',
      'the kernel reports the cancelled wait',
    );
    expect(readExecutionState(doc)?.kernel.reason).toMatch(/did not get it: Cancelled while waiting/);
  });
});
