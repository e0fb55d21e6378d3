import { createCollabServer } from '@kiln/collab';
import { afterEach, describe, expect, it } from 'vitest';
import { createExecutionService } from './execution-service.ts';
import { readExecutionState } from './execution-state.ts';
import { createMemoryKernelStore } from './kernel-store.ts';
import { FakeGateway } from './test-support/fake-gateway.ts';
import { cellView, seedNotebook, waitFor } from './test-support/notebook-fixture.ts';

// Taking kernels over from an earlier web process, queue-wise (the kernel is a script here; the
// restart of a real web server over real kernels is tested end to end).

const alice = { userId: 'u-alice', name: 'Alice' };
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function setup(cells: string[]) {
  const collab = createCollabServer({ onError: () => {}, unloadDelayMs: 0 });
  const gateway = new FakeGateway();
  const kernelStore = createMemoryKernelStore();
  const connection = await seedNotebook(collab, 'nb', cells);
  cleanup.push(() => collab.close());
  cleanup.push(() => connection.disconnect());
  const service = () => {
    const created = createExecutionService({
      gateway: () => gateway,
      openDocument: (id) => collab.openDirectConnection(id),
      kernelStore,
      reattachMs: 500,
    });
    cleanup.push(() => created.dispose());
    return created;
  };
  return { service, gateway, kernelStore, doc: connection.document };
}

describe('kernels outlive the web process', () => {
  it('re-attaches after a restart: the running cell gets its output, the queue goes on, nothing runs twice', async () => {
    const { service, gateway, kernelStore, doc } = await setup(['hold x', 'b']);
    const first = service();
    await first.run({ notebookId: 'nb', workspaceId: 'ws', target: { kind: 'all' }, user: alice });
    await waitFor(() => gateway.holding === 1, 'the first cell runs');
    await first.detach();
    expect(gateway.shutdowns).toBe(0);
    expect(kernelStore.records.get('nb')).toMatchObject({
      kernelId: 'fake-1',
      running: { cellId: 'c0' },
      queue: [{ cellId: 'c1', by: alice }],
    });

    // The cell finishes while no web process listens; the gateway keeps its output for the session.
    gateway.release();
    const second = service();
    expect(await second.resume()).toEqual([{ notebookId: 'nb', outcome: 'attached', reason: null }]);
    await waitFor(() => cellView(doc, 'c1').text === 'b\n', 'the queued cell ran');
    await second.whenIdle('nb');
    expect(cellView(doc, 'c0')).toMatchObject({ text: 'hold x\n', state: 'idle', count: 1 });
    expect(gateway).toMatchObject({ started: 1, executed: ['hold x', 'b'] });
    expect(readExecutionState(doc)).toMatchObject({
      kernel: { status: 'idle', kernelId: 'fake-1' },
      queue: [],
    });
    expect(kernelStore.records.get('nb')).toMatchObject({ running: null, queue: [] });
  });

  it('says in the running cell and the kernel status when the kernel is gone, and clears its queue', async () => {
    const { service, gateway, kernelStore, doc } = await setup(['hold x', 'b']);
    const first = service();
    await first.run({ notebookId: 'nb', workspaceId: 'ws', target: { kind: 'all' }, user: alice });
    await waitFor(() => gateway.holding === 1, 'the first cell runs');
    await first.detach();
    gateway.gone.add('fake-1');

    const second = service();
    const [result] = await second.resume();
    expect(result).toMatchObject({ outcome: 'gone', reason: expect.stringContaining('variables are lost') });
    await second.whenIdle('nb');
    expect(cellView(doc, 'c0').state).toBe('idle');
    expect(cellView(doc, 'c0').text).toContain('KernelDied: The kernel is gone');
    expect(cellView(doc, 'c1')).toMatchObject({ state: 'idle', text: '' });
    expect(readExecutionState(doc)?.kernel).toMatchObject({
      status: 'dead',
      reason: expect.stringContaining('Run the cell again'),
    });
    expect(kernelStore.records.has('nb')).toBe(false);

    // The next run starts a new kernel.
    await second.run({
      notebookId: 'nb',
      workspaceId: 'ws',
      target: { kind: 'cells', cellIds: ['c1'] },
      user: alice,
    });
    await second.whenIdle('nb');
    expect(cellView(doc, 'c1').text).toBe('b\n');
    expect(gateway.started).toBe(2);
  });

  it('gives the reason a restarted gateway states for a kernel it could not take back', async () => {
    const { service, gateway, doc } = await setup(['hold x', 'b']);
    const first = service();
    await first.run({ notebookId: 'nb', workspaceId: 'ws', target: { kind: 'all' }, user: alice });
    await waitFor(() => gateway.holding === 1, 'the first cell runs');
    await first.detach();
    gateway.stopped.set(
      'fake-1',
      'The kernel gateway restarted and could not take this kernel back (its sandbox had stopped), so it was stopped and its variables are lost. Run the cell again to start a new kernel.',
    );

    const [result] = await service().resume();
    expect(result).toMatchObject({
      outcome: 'gone',
      reason: expect.stringContaining('its sandbox had stopped'),
    });
    await waitFor(() => cellView(doc, 'c0').state === 'idle', 'the cell ended');
    expect(cellView(doc, 'c0').text).toContain(
      'KernelDied: The kernel is gone: the kernel gateway restarted and could not take this kernel back (its sandbox had stopped)',
    );
    expect(readExecutionState(doc)?.kernel).toMatchObject({
      status: 'dead',
      reason: expect.stringContaining('its sandbox had stopped'),
    });
  });

  it('ends the running cell with a note when the replay lost its reply, instead of running forever', async () => {
    const { service, gateway, doc } = await setup(['hold x', 'b']);
    const first = service();
    await first.run({ notebookId: 'nb', workspaceId: 'ws', target: { kind: 'all' }, user: alice });
    await waitFor(() => gateway.holding === 1, 'the first cell runs');
    await first.detach();
    gateway.release();
    gateway.loseBuffered();

    const second = service();
    expect((await second.resume())[0]?.outcome).toBe('attached');
    await waitFor(() => cellView(doc, 'c0').state === 'idle', 'the cell ended');
    await second.whenIdle('nb');
    expect(cellView(doc, 'c0').text).toContain('output was lost while Kiln restarted');
    expect(cellView(doc, 'c1')).toMatchObject({ state: 'idle', text: '' });
    expect(gateway.executed).toEqual(['hold x']);
  });

  it('shuts the kernel down and forgets it when the notebook is shut down', async () => {
    const { service, gateway, kernelStore } = await setup(['a']);
    const first = service();
    await first.run({ notebookId: 'nb', workspaceId: 'ws', target: { kind: 'all' }, user: alice });
    await first.whenIdle('nb');
    await waitFor(() => kernelStore.records.has('nb'), 'the kernel is recorded');
    await first.shutdown('nb');
    await waitFor(() => !kernelStore.records.has('nb'), 'the record is removed');
    expect(gateway.shutdowns).toBe(1);
  });
});

describe('what people read when the kernel service fails', () => {
  it('says the kernel service cannot be reached, not "fetch failed"', async () => {
    const { service, gateway, doc } = await setup(['a']);
    gateway.refuseStart = 'fetch failed';
    const run = service();
    await run.run({ notebookId: 'nb', workspaceId: 'ws', target: { kind: 'all' }, user: alice });
    await run.whenIdle('nb');
    const text = cellView(doc, 'c0').text;
    expect(text).toContain('kernel service cannot be reached');
    expect(text).toContain('Try again');
    expect(text).not.toContain('fetch failed');
    expect(readExecutionState(doc)?.kernel.reason).toContain('cannot be reached');
  });
});
