import type { TestDatabase } from '@kiln/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, createTeam, outcome, type Team, withDatabase } from '../test/harness.ts';
import { createTestServices, type TestServices } from '../test/services.ts';

let t: TestDatabase;
let services: TestServices;
let team: Team;
beforeAll(async () => {
  t = await withDatabase({ max: 4 });
  services = createTestServices();
  team = await createTeam(t.db, services.services);
});
afterAll(async () => {
  await services?.close();
  await t?.drop();
});

const ids = () => ({ workspaceId: team.workspace.id, notebookId: team.notebookId });
const callsFor = (notebookId: string) =>
  services.execution.calls.filter((call) => call.notebookId === notebookId);

describe('running cells', () => {
  it('queues the chosen cells as the caller, with the notebook resources', async () => {
    const api = team.browsers.editor.api;
    await api.notebook.setResources({ ...ids(), cpu: 0.5, memoryMiB: 1024, gpu: ['h100:2', 'a100-40gb'] });
    const before = callsFor(team.notebookId).length;
    const ticket = await api.notebook.run({ ...ids(), cellIds: ['a', 'b'] });
    expect(ticket.cellIds).toEqual(['a', 'b']);
    await api.notebook.run({ ...ids(), mode: 'below', cellId: 'b' });
    await api.notebook.run({ ...ids(), mode: 'all' });
    expect(
      callsFor(team.notebookId)
        .slice(before)
        .map((call) => call.args),
    ).toEqual([
      {
        notebookId: team.notebookId,
        workspaceId: team.workspace.id,
        target: { kind: 'cells', cellIds: ['a', 'b'] },
        user: { userId: team.users.editor.id, name: 'editor' },
        resources: { cpu: 0.5, memoryMiB: 1024, gpu: ['H100:2', 'A100-40GB'] },
      },
      expect.objectContaining({ target: { kind: 'below', cellId: 'b' } }),
      expect.objectContaining({ target: { kind: 'all' } }),
    ]);
  });

  it('starts the kernel with the volumes the notebook chose, as mount specs', async () => {
    const api = team.browsers.editor.api;
    const volume = await api.volume.create({ workspaceId: team.workspace.id, name: `data-${Date.now()}` });
    await api.volume.setForNotebook({ ...ids(), volumes: [{ volumeId: volume.id, readOnly: true }] });
    const before = callsFor(team.notebookId).length;
    await api.notebook.run({ ...ids(), mode: 'all' });
    await api.volume.setForNotebook({ ...ids(), volumes: [] });
    expect(callsFor(team.notebookId).slice(before)[0]?.args).toMatchObject({
      volumes: [
        { id: volume.id, name: volume.name, target: `/vol/${volume.name}`, readOnly: true, quotaMiB: 10_240 },
      ],
    });
  });

  it('interrupt, restart, shutdown and input answers reach the notebook kernel', async () => {
    const api = team.browsers.admin.api;
    const before = callsFor(team.notebookId).length;
    await api.notebook.interrupt(ids());
    await api.notebook.restart(ids());
    await api.notebook.answerInput({ ...ids(), value: 'secret ✓' });
    await api.notebook.shutdownKernel(ids());
    expect(
      callsFor(team.notebookId)
        .slice(before)
        .map((call) => [call.method, call.args]),
    ).toEqual([
      ['interrupt', null],
      ['restart', null],
      ['answerInput', 'secret ✓'],
      ['shutdown', null],
    ]);
  });

  it('completion and inspection reach the notebook kernel; oversized code and bad levels do not', async () => {
    const api = team.browsers.editor.api;
    const before = callsFor(team.notebookId).length;
    const completion = await api.notebook.complete({ ...ids(), code: 'café\nos.pa', cursorPos: 99 });
    expect(completion).toEqual({ matches: ['path'], cursorStart: 8, cursorEnd: 10, metadata: {} });
    const help = await api.notebook.inspect({ ...ids(), code: 'len', cursorPos: 3, detailLevel: 1 });
    expect(help).toEqual({
      found: true,
      data: { 'text/plain': 'Return the number of items in a container.' },
    });
    expect(
      callsFor(team.notebookId)
        .slice(before)
        .map((call) => [call.method, call.args]),
    ).toEqual([
      // A cursor past the end is clamped to the end of the code.
      ['complete', { code: 'café\nos.pa', cursorPos: 10 }],
      ['inspect', { code: 'len', cursorPos: 3, detailLevel: 1 }],
    ]);
    expect(await outcome(api.notebook.complete({ ...ids(), code: 'é'.repeat(600_000), cursorPos: 1 }))).toBe(
      'BAD_REQUEST',
    );
    expect(
      await outcome(api.notebook.inspect({ ...ids(), code: 'len', cursorPos: 3, detailLevel: 2 as 1 })),
    ).toBe('BAD_REQUEST');
    expect(await outcome(api.notebook.complete({ ...ids(), code: 'x', cursorPos: -1 }))).toBe('BAD_REQUEST');
    expect(callsFor(team.notebookId).length).toBe(before + 2);
  });

  it('refuses unclear or oversized requests before they reach the kernel', async () => {
    const api = team.browsers.editor.api;
    const before = services.execution.calls.length;
    const results = {
      nothingChosen: await outcome(api.notebook.run(ids())),
      aboveWithoutCell: await outcome(api.notebook.run({ ...ids(), mode: 'above' })),
      tooManyCells: await outcome(
        api.notebook.run({ ...ids(), cellIds: Array.from({ length: 1001 }, (_, i) => `c${i}`) }),
      ),
      badMode: await outcome(api.notebook.run({ ...ids(), mode: 'sideways' as 'all' })),
      hugeAnswer: await outcome(api.notebook.answerInput({ ...ids(), value: 'é'.repeat(40_000) })),
    };
    expect(results).toEqual({
      nothingChosen: 'BAD_REQUEST',
      aboveWithoutCell: 'BAD_REQUEST',
      tooManyCells: 'BAD_REQUEST',
      badMode: 'BAD_REQUEST',
      hugeAnswer: 'BAD_REQUEST',
    });
    expect(services.execution.calls.length).toBe(before);
    const message = await api.notebook
      .run({ ...ids(), mode: 'above' })
      .catch((error: Error) => error.message);
    expect(message).toMatch(/needs that cell's id/);
  });

  it('answers PRECONDITION_FAILED, not a 500, on a server without an execution service', async () => {
    const bare = new Browser(t.db, { sessionToken: team.browsers.editor.sessionToken ?? undefined });
    const error = await bare.api.notebook
      .run({ ...ids(), mode: 'all' })
      .catch((caught: { code: string; message: string }) => caught);
    expect(error).toMatchObject({
      code: 'PRECONDITION_FAILED',
      message: 'Running code is not available on this server.',
    });
    expect(await outcome(bare.api.notebook.interrupt(ids()))).toBe('PRECONDITION_FAILED');
  });
});

describe('notebook resources and details', () => {
  it('new notebooks get the default kernel size; viewers read but cannot run or edit', async () => {
    const created = await team.browsers.owner.api.notebook.create({
      workspaceId: team.workspace.id,
      name: 'Fresh',
    });
    const asViewer = await team.browsers.viewer.api.notebook.get({
      workspaceId: team.workspace.id,
      notebookId: created.id,
    });
    expect(asViewer).toMatchObject({
      id: created.id,
      name: 'Fresh',
      resources: { cpu: 1, memoryMiB: 2048, gpu: [] },
      canEdit: false,
      canRun: false,
    });
    const asEditor = await team.browsers.editor.api.notebook.get({
      workspaceId: team.workspace.id,
      notebookId: created.id,
    });
    expect(asEditor).toMatchObject({ canEdit: true, canRun: true });
  });

  it('stores validated resources and refuses GPUs the scheduler does not know', async () => {
    const api = team.browsers.editor.api;
    await api.notebook.setResources({ ...ids(), cpu: 4, memoryMiB: 8192, gpu: 'a100-80gb' });
    expect((await api.notebook.get(ids())).resources).toEqual({
      cpu: 4,
      memoryMiB: 8192,
      gpu: ['A100-80GB'],
      image: null,
    });

    const unknown = await api.notebook
      .setResources({ ...ids(), cpu: 1, memoryMiB: 1024, gpu: 'TPU' })
      .catch((error: { code: string; message: string }) => error);
    expect(unknown).toMatchObject({
      code: 'BAD_REQUEST',
      message: expect.stringMatching(/Unknown GPU type "TPU"/),
    });
    const results = {
      tinyCpu: await outcome(api.notebook.setResources({ ...ids(), cpu: 0.1, memoryMiB: 1024, gpu: null })),
      hugeMemory: await outcome(
        api.notebook.setResources({ ...ids(), cpu: 1, memoryMiB: 262_145, gpu: null }),
      ),
      fractionalMemory: await outcome(
        api.notebook.setResources({ ...ids(), cpu: 1, memoryMiB: 1000.5, gpu: null }),
      ),
      tooManyGpus: await outcome(
        api.notebook.setResources({ ...ids(), cpu: 1, memoryMiB: 1024, gpu: 'H100:9' }),
      ),
    };
    expect(results).toEqual({
      tinyCpu: 'BAD_REQUEST',
      hugeMemory: 'BAD_REQUEST',
      fractionalMemory: 'BAD_REQUEST',
      tooManyGpus: 'BAD_REQUEST',
    });
    expect((await api.notebook.get(ids())).resources).toEqual({
      cpu: 4,
      memoryMiB: 8192,
      gpu: ['A100-80GB'],
      image: null,
    });

    await api.notebook.setResources({ ...ids(), cpu: 0.125, memoryMiB: 128, gpu: null });
    expect((await api.notebook.get(ids())).resources).toEqual({
      cpu: 0.125,
      memoryMiB: 128,
      gpu: [],
      image: null,
    });
  });
});

describe('resources come from the plan and what the nodes can run', () => {
  it("refuses more than the workspace's plan allows, naming the limit, the plan and what raises it", async () => {
    const api = team.browsers.editor.api;
    await api.notebook.setResources({ ...ids(), cpu: 2, memoryMiB: 2048, gpu: null });
    const big = await api.notebook
      .setResources({ ...ids(), cpu: 64, memoryMiB: 2048, gpu: null })
      .catch((error: { code: string; message: string }) => error);
    expect(big).toMatchObject({ code: 'TOO_MANY_REQUESTS' });
    expect((big as { message: string }).message).toMatch(
      /Starter plan allows at most 8 CPUs per container.*Upgrade to Team/,
    );
    const fat = await api.notebook
      .setResources({ ...ids(), cpu: 1, memoryMiB: 256 * 1024, gpu: null })
      .catch((error: { message: string }) => error);
    expect((fat as { message: string }).message).toMatch(/Starter plan allows at most 32 GiB of memory/);
    expect((await api.notebook.get(ids())).resources).toEqual({
      cpu: 2,
      memoryMiB: 2048,
      gpu: [],
      image: null,
    });
  });

  it('refuses a GPU no registered node has, listing what is valid, and prices each choice', async () => {
    await t.db.$executeRaw`TRUNCATE "ContainerEvent", "NodeGpu", "Container", "Node" CASCADE`;
    const { createScheduler, discoverGpus } = await import('@kiln/scheduler');
    const scheduler = createScheduler({ db: t.db });
    await scheduler.registerNode({
      id: 'cpu-host',
      url: 'http://127.0.0.1:1',
      cpu: 4,
      memoryMiB: 8192,
      gpus: await discoverGpus({ declared: [] }),
    });
    try {
      const api = team.browsers.editor.api;
      await api.notebook.setResources({ ...ids(), cpu: 1, memoryMiB: 2048, gpu: null });
      const t4 = await api.notebook
        .setResources({ ...ids(), cpu: 1, memoryMiB: 2048, gpu: 'T4' })
        .catch((error: { code: string; message: string }) => error);
      expect(t4).toMatchObject({ code: 'BAD_REQUEST' });
      expect((t4 as { message: string }).message).toMatch(
        /no node has T4 GPUs.*CPU-only machines up to 4 CPUs and 8 GiB/,
      );
      expect((await api.notebook.get(ids())).resources.gpu).toEqual([]);

      const machines = await api.notebook.machines(ids());
      expect(machines).toMatchObject({ plan: 'Starter', cpu: 1, memoryMiB: 2048 });
      const none = machines.choices.find((choice) => choice.gpu === null);
      expect(none).toMatchObject({ verdict: 'now', reason: null });
      // 1 CPU and 2 GiB for an hour at the price book's per-second prices.
      expect(none?.pricePerHour).toBeCloseTo(0.06, 2);
      const h100 = machines.choices.find((choice) => choice.gpu === 'H100');
      expect(h100?.verdict).toBe('refused');
      expect(h100?.reason).toMatch(/no node has H100 GPUs/);
      expect(h100?.pricePerHour).toBeCloseTo(4.01, 2);
    } finally {
      await scheduler.close();
      await t.db.$executeRaw`TRUNCATE "ContainerEvent", "NodeGpu", "Container", "Node" CASCADE`;
    }
  });
});
