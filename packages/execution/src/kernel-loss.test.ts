import { createCollabServer } from '@kiln/collab';
import { afterEach, describe, expect, it } from 'vitest';
import { createExecutionService } from './execution-service.ts';
import { readExecutionState } from './execution-state.ts';
import { createMemoryKernelStore } from './kernel-store.ts';
import { FakeGateway } from './test-support/fake-gateway.ts';
import { cellView, seedNotebook, waitFor } from './test-support/notebook-fixture.ts';

// What every cell of a notebook says when its kernel's gateway dies under it, queue-wise (the kernel
// is a script here; a real gateway killed with -9 is tested end to end in e2e/tests/resilience.spec.ts).

const alice = { userId: 'u-alice', name: 'Alice' };
const GONE =
  'The kernel gateway restarted and could not take this kernel back (its sandbox had stopped), so it was stopped and its variables are lost. Run the cell again to start a new kernel.';
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function setup(cells: string[]) {
  const collab = createCollabServer({ onError: () => {}, unloadDelayMs: 0 });
  const gateway = new FakeGateway();
  const connection = await seedNotebook(collab, 'nb', cells);
  cleanup.push(() => collab.close());
  cleanup.push(() => connection.disconnect());
  const service = createExecutionService({
    gateway: () => gateway,
    openDocument: (id) => collab.openDirectConnection(id),
    reattachMs: 5000,
  });
  cleanup.push(() => service.dispose());
  const run = (cellIds?: string[]) =>
    service.run({
      notebookId: 'nb',
      workspaceId: 'ws',
      target: cellIds ? { kind: 'cells', cellIds } : { kind: 'all' },
      user: alice,
    });
  return { service, gateway, run, doc: connection.document };
}

/** Holds the gateway's answers to connects until the returned function is called. */
function holdConnects(gateway: FakeGateway): () => void {
  let open: () => void = () => {};
  gateway.connectGate = new Promise((resolve) => {
    open = resolve;
  });
  return () => {
    gateway.connectGate = null;
    open();
  };
}

describe('a gateway that dies and cannot take the kernel back', () => {
  it('ends the running cell with why, the cells queued behind it go back to idle, and the kernel says dead', async () => {
    const { service, gateway, run, doc } = await setup(['hold x', 'b', 'c']);
    await run();
    await waitFor(() => gateway.holding === 1, 'the first cell runs');
    gateway.stopped.set('fake-1', GONE);
    gateway.dropConnection();

    await waitFor(() => readExecutionState(doc)?.kernel.status === 'dead', 'the kernel is dead');
    await service.whenIdle('nb');
    expect(cellView(doc, 'c0').state).toBe('idle');
    expect(cellView(doc, 'c0').text).toContain(
      'KernelDied: The kernel is gone: the kernel gateway restarted and could not take this kernel back',
    );
    // As in JupyterLab: the queued cells did not run and keep what they showed (nothing here).
    for (const cellId of ['c1', 'c2'])
      expect(cellView(doc, cellId)).toMatchObject({ state: 'idle', text: '' });
    expect(readExecutionState(doc)?.kernel.reason).toContain('its sandbox had stopped');
    expect(gateway).toMatchObject({ started: 1, executed: ['hold x'] });
  });

  it('ends a run requested while the gateway was restarting with why, instead of leaving the old output', async () => {
    const { service, gateway, run, doc } = await setup(['a']);
    await run();
    await service.whenIdle('nb');
    expect(cellView(doc, 'c0').text).toBe('a\n');

    // The gateway dies; the web tries to get the kernel back while it restarts. Run is pressed meanwhile.
    const answer = holdConnects(gateway);
    gateway.dropConnection();
    await waitFor(() => readExecutionState(doc)?.kernel.status === 'reconnecting', 'the web to reconnect');
    await run(['c0']);
    await waitFor(() => cellView(doc, 'c0').state === 'queued', 'the cell waits');
    gateway.stopped.set('fake-1', GONE);
    answer();

    await waitFor(() => cellView(doc, 'c0').state === 'idle', 'the cell to be told');
    await service.whenIdle('nb');
    const { text } = cellView(doc, 'c0');
    expect(text).toContain('could not take this kernel back');
    expect(text).not.toContain('a\n');
    // No other kernel was started behind the user's back: the kernel bar says what happened.
    expect(readExecutionState(doc)?.kernel).toMatchObject({
      status: 'dead',
      reason: expect.stringContaining('variables are lost'),
    });
    expect(gateway.started).toBe(1);

    // Running again starts a new kernel.
    await run(['c0']);
    await service.whenIdle('nb');
    expect(cellView(doc, 'c0').text).toBe('a\n');
    expect(gateway.started).toBe(2);
  });

  it('ends a running cell whose reply was lost while the gateway restarted, instead of running forever', async () => {
    const { service, gateway, run, doc } = await setup(['hold x', 'b']);
    await run();
    await waitFor(() => gateway.holding === 1, 'the first cell runs');
    const answer = holdConnects(gateway);
    gateway.dropConnection();
    await waitFor(() => readExecutionState(doc)?.kernel.status === 'reconnecting', 'the web to reconnect');
    // The cell finishes while no gateway relays it, and the restarted gateway has nothing to replay.
    gateway.release();
    gateway.loseBuffered();
    answer();

    await waitFor(() => cellView(doc, 'c0').state === 'idle', 'the cell ended', 20_000);
    await service.whenIdle('nb');
    expect(cellView(doc, 'c0').text).toContain('output was lost');
    expect(readExecutionState(doc)?.kernel.status).toBe('idle');
    expect(gateway.started).toBe(1);
  });
});

describe('a kernel whose machine is lost and may come back', () => {
  const AWAY =
    'The machine running this kernel stopped answering (no heartbeat for 30 s). Kiln waits up to 5 min for it to come back with the kernel and its variables.';

  it('keeps the cells queued behind the running one, and a cell run meanwhile, and runs them once it is back', async () => {
    const { service, gateway, run, doc } = await setup(['hold x', 'b', 'c']);
    await run(['c0', 'c1']);
    await waitFor(() => gateway.holding === 1, 'the first cell runs');
    expect(service.kernelAway('nb', 'fake-1', AWAY)).toBe(true);

    await waitFor(() => cellView(doc, 'c0').state === 'idle', 'the running cell ends');
    expect(cellView(doc, 'c0').text).toContain(`KernelDied: ${AWAY}`);
    await service.whenIdle('nb');
    expect(cellView(doc, 'c1').state).toBe('queued');
    expect(readExecutionState(doc)?.kernel).toMatchObject({ status: 'reconnecting', reason: AWAY });

    // Run while it is away: the cell waits for the kernel instead of failing with an internal name.
    await run(['c2']);
    await service.whenIdle('nb');
    expect(cellView(doc, 'c2')).toMatchObject({ state: 'queued', text: '' });
    expect(readExecutionState(doc)?.queue.map((entry) => entry.cellId)).toEqual(['c1', 'c2']);

    expect(await service.kernelBack('nb', 'fake-1')).toBe(true);
    await waitFor(() => cellView(doc, 'c2').text === 'c\n', 'the waiting cells ran');
    await service.whenIdle('nb');
    expect(cellView(doc, 'c1')).toMatchObject({ state: 'idle', text: 'b\n' });
    expect(cellView(doc, 'c0').text).toContain('The kernel is back');
    expect(gateway).toMatchObject({ started: 1, executed: ['hold x', 'b', 'c'] });
  });

  it('says the kernel is back when it is reached again before the scheduler notices its machine returned', async () => {
    const { service, gateway, run, doc } = await setup(['hold x']);
    await run();
    await waitFor(() => gateway.holding === 1, 'the cell runs');
    const answer = holdConnects(gateway);
    gateway.dropConnection();
    await waitFor(() => readExecutionState(doc)?.kernel.status === 'reconnecting', 'the web to reconnect');
    expect(service.kernelAway('nb', 'fake-1', AWAY)).toBe(true);
    expect(readExecutionState(doc)?.kernel.reason).toBe(AWAY);

    answer();
    await waitFor(() => readExecutionState(doc)?.kernel.status === 'busy', 'the web to reach it again');
    expect(readExecutionState(doc)?.kernel.reason).toContain('The kernel is back');
    expect(await service.kernelBack('nb', 'fake-1')).toBe(true);
    gateway.release();
    await waitFor(() => readExecutionState(doc)?.kernel.status === 'idle', 'the cell to finish');
    expect(readExecutionState(doc)?.kernel.reason).toContain('The kernel is back');
    expect(gateway.started).toBe(1);
  });

  it('ends each waiting cell with why once the kernel is given up', async () => {
    const { service, gateway, run, doc } = await setup(['hold x', 'b', 'c']);
    await run(['c0', 'c1']);
    await waitFor(() => gateway.holding === 1, 'the first cell runs');
    service.kernelAway('nb', 'fake-1', AWAY);
    await run(['c2']);
    await service.whenIdle('nb');
    expect(cellView(doc, 'c2').state).toBe('queued');

    const givenUp = 'Its machine did not come back within 5 min, so the kernel and its variables are lost.';
    service.kernelLost('nb', 'fake-1', givenUp);
    await waitFor(() => cellView(doc, 'c2').state === 'idle', 'the waiting cells are told');
    await service.whenIdle('nb');
    // No cell was running (the one that was ended when the machine went away), so the first waiting
    // cell says why; the one behind it goes back to idle.
    expect(cellView(doc, 'c1')).toMatchObject({ state: 'idle', text: `KernelDied: ${givenUp}` });
    expect(cellView(doc, 'c2')).toMatchObject({ state: 'idle', text: '' });
    expect(readExecutionState(doc)?.kernel).toMatchObject({
      status: 'dead',
      reason: givenUp,
      kernelId: null,
    });
    expect(gateway).toMatchObject({ started: 1, executed: ['hold x'] });
  });
});

describe('a web restart while a kernel waits for its lost machine', () => {
  const AWAY = 'The machine running this kernel stopped answering (Lost: node gw stopped answering).';

  it('keeps waiting for it, rather than giving the kernel up when its gateway does not answer', async () => {
    const collab = createCollabServer({ onError: () => {}, unloadDelayMs: 0 });
    const gateway = new FakeGateway();
    const kernelStore = createMemoryKernelStore();
    const connection = await seedNotebook(collab, 'nb', ['hold x', 'b']);
    cleanup.push(() => collab.close());
    cleanup.push(() => connection.disconnect());
    const doc = connection.document;
    // Where the scheduler's database says which kernels are lost.
    const lost = new Set<string>();
    const service = () => {
      const created = createExecutionService({
        gateway: () => gateway,
        openDocument: (id) => collab.openDirectConnection(id),
        kernelStore,
        reattachMs: 300,
        kernelAway: async (kernelId) => (lost.has(kernelId) ? AWAY : null),
      });
      cleanup.push(() => created.dispose());
      return created;
    };
    const first = service();
    await first.run({ notebookId: 'nb', workspaceId: 'ws', target: { kind: 'all' }, user: alice });
    await waitFor(() => gateway.holding === 1, 'the first cell runs');

    // The node is lost, and the web server restarts meanwhile.
    lost.add('fake-1');
    gateway.unreachable = true;
    first.kernelAway('nb', 'fake-1', AWAY);
    await first.detach();
    const second = service();
    expect(await second.resume()).toEqual([
      { notebookId: 'nb', outcome: 'away', reason: AWAY, kernelId: 'fake-1' },
    ]);
    await second.whenIdle('nb');
    expect(readExecutionState(doc)?.kernel).toMatchObject({ status: 'reconnecting', reason: AWAY });
    expect(cellView(doc, 'c1').state).toBe('queued');
    // Still recorded: a further restart waits for it too.
    expect(kernelStore.records.get('nb')).toMatchObject({ kernelId: 'fake-1', queue: [{ cellId: 'c1' }] });

    // The machine comes back with the kernel: the queue goes on in the same kernel.
    lost.delete('fake-1');
    gateway.unreachable = false;
    expect(await second.kernelBack('nb', 'fake-1')).toBe(true);
    await waitFor(() => cellView(doc, 'c1').text === 'b\n', 'the waiting cell ran');
    await second.whenIdle('nb');
    expect(readExecutionState(doc)?.kernel).toMatchObject({ status: 'idle', kernelId: 'fake-1' });
    expect(gateway.started).toBe(1);
  });
});

describe('a re-attach still retrying when the kernel is declared lost', () => {
  it('does not end a run asked for afterwards, which starts a new kernel', async () => {
    const { service, gateway, run, doc } = await setup(['a']);
    await run();
    await service.whenIdle('nb');
    expect(cellView(doc, 'c0').text).toBe('a\n');

    // The node dies: the socket drops and the web retries the gateway, which does not answer yet.
    const release = holdConnects(gateway);
    gateway.dropConnection();
    await waitFor(() => readExecutionState(doc)?.kernel.status === 'reconnecting', 'the retries to begin');
    // The scheduler declares the node lost meanwhile: the kernel is given up, and Run is pressed again.
    const LOST = 'Lost: node gw stopped answering at 2026-12-04T16:00:00Z (no heartbeat for 10 s)';
    service.kernelLost('nb', 'fake-1', LOST);
    gateway.gone.add('fake-1');
    await run();
    // The old retry now hears the kernel is gone: old news, not a reason to end the new run.
    release();
    await waitFor(() => cellView(doc, 'c0').state === 'idle' && gateway.started === 2, 'the new run');
    await service.whenIdle('nb');
    expect(cellView(doc, 'c0').text).toBe('a\n');
    expect(readExecutionState(doc)?.kernel).toMatchObject({ status: 'idle', kernelId: 'fake-2' });
  });
});
