import { randomUUID } from 'node:crypto';
import type { DirectConnection } from '@kiln/collab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExecutionService } from './execution-service.ts';
import { readExecutionState } from './execution-state.ts';
import { createMemoryKernelStore } from './kernel-store.ts';
import { connectClient, startCollabHttp } from './test-support/collab-http.ts';
import { startKernelGateway } from './test-support/gateway.ts';
import { cellView, seedNotebook, waitFor } from './test-support/notebook-fixture.ts';
import type { ExecutionService } from './types.ts';

// A kernel paused by Kiln (a spending cap) is hibernated in real runsc with its variables, says why,
// and a later run wakes it: the cell that was running when it was paused finishes, the next one runs.
// The pause may come from another web process (each runs the billing pass): the notebook of the
// process holding the kernel, and the page connected to it, show "Paused" and why all the same.
// A pause outlives the web process: the one that takes the kernel over leaves it asleep, saying why.

const NOTEBOOK = 'pause-int';
const workspaceId = randomUUID();
const ada = { userId: 'u-ada', name: 'Ada' };
const REASON = 'This workspace reached its monthly budget of $1.00, which is a hard cap.';
let kernels: Awaited<ReturnType<typeof startKernelGateway>>;
let server: Awaited<ReturnType<typeof startCollabHttp>>;
let service: ExecutionService;
let seed: DirectConnection;

beforeAll(async () => {
  kernels = await startKernelGateway();
  server = await startCollabHttp();
  service = createExecutionService({
    gateway: kernels.gateway,
    openDocument: (id) => server.collab.openDirectConnection(id),
  });
}, 900_000);

afterAll(async () => {
  await service?.dispose();
  await seed?.disconnect();
  await server?.close();
  await kernels?.close();
});

const run = (cellIds: string[]) =>
  service.run({ notebookId: NOTEBOOK, workspaceId, target: { kind: 'cells', cellIds }, user: ada });

describe('pausing a running kernel at a spending cap', () => {
  it('hibernates it with its variables, says why, and wakes it on the next run', async () => {
    seed = await seedNotebook(server.collab, NOTEBOOK, [
      'x = 41',
      'import time\nfor i in range(4):\n    print(i, flush=True)\n    time.sleep(1)\nprint("done")',
      'print(x + 1)',
    ]);
    const doc = seed.document;
    await run(['c0']);
    await service.whenIdle(NOTEBOOK);
    const kernelId = readExecutionState(doc)?.kernel.kernelId ?? '';
    expect(kernelId).not.toBe('');

    await run(['c1', 'c2']);
    await waitFor(() => cellView(doc, 'c1').text.startsWith('0\n'), 'the loop printing', 60_000);
    expect(await service.pause('some-other-kernel', REASON)).toBe(false);
    expect(await service.pause(kernelId, REASON)).toBe(true);

    const model = await kernels.client(workspaceId).getKernel(kernelId);
    expect(model.hibernation).toBe('hibernated');
    expect(readExecutionState(doc)?.kernel).toMatchObject({ status: 'paused', reason: REASON });
    // The cell queued behind stopped waiting; the one running is frozen with the kernel.
    expect(readExecutionState(doc)?.queue).toEqual([]);
    expect(cellView(doc, 'c2').state).toBe('idle');
    expect(cellView(doc, 'c1').text).not.toContain('done');

    // The cap was lifted: the next run wakes the kernel, the frozen cell finishes first, variables kept.
    await run(['c2']);
    await service.whenIdle(NOTEBOOK);
    expect(cellView(doc, 'c1').text).toBe('0\n1\n2\n3\ndone\n');
    expect(cellView(doc, 'c2').text).toBe('42\n');
    expect(readExecutionState(doc)?.kernel).toMatchObject({ status: 'idle', reason: null });
    expect((await kernels.client(workspaceId).getKernel(kernelId)).hibernation).toBe('awake');
  }, 300_000);
});

describe('a pause asked for by another web process', () => {
  it('shows "Paused" and why on the page of the process holding the kernel, which wakes it on the next run', async () => {
    // Process B holds the notebook's kernel; its page is a browser-side client of B's collab server.
    const holder = await startCollabHttp();
    const holderService = createExecutionService({
      gateway: kernels.gateway,
      openDocument: (id) => holder.collab.openDirectConnection(id),
    });
    // Process A holds no notebook; its billing pass finds the workspace past its hard cap.
    const other = await startCollabHttp();
    const otherService = createExecutionService({
      gateway: kernels.gateway,
      openDocument: (id) => other.collab.openDirectConnection(id),
    });
    const notebookId = 'pause-elsewhere-int';
    const seeded = await seedNotebook(holder.collab, notebookId, [
      'x = 41',
      'import time\nfor i in range(4):\n    print(i, flush=True)\n    time.sleep(1)\nprint("done")',
      'print(x + 1)',
    ]);
    const page = connectClient(holder.url, notebookId);
    const runOnHolder = (cellIds: string[]) =>
      holderService.run({ notebookId, workspaceId, target: { kind: 'cells', cellIds }, user: ada });
    try {
      await runOnHolder(['c0']);
      await holderService.whenIdle(notebookId);
      const kernelId = readExecutionState(seeded.document)?.kernel.kernelId ?? '';
      expect(kernelId).not.toBe('');
      await runOnHolder(['c1', 'c2']);
      await waitFor(() => cellView(page.doc, 'c1').text.startsWith('0\n'), 'the loop printing', 60_000);

      // As the web app's pauseKernel: not a kernel of A's notebooks, so A hibernates it directly, with why.
      expect(await otherService.pause(kernelId, REASON)).toBe(false);
      await kernels.gateway(workspaceId).hibernateKernel?.(kernelId, REASON);

      await waitFor(
        () => readExecutionState(page.doc)?.kernel.status === 'paused',
        'the page of the holding process shows the kernel paused',
        30_000,
      );
      expect(readExecutionState(page.doc)?.kernel).toMatchObject({ status: 'paused', reason: REASON });
      expect((await kernels.client(workspaceId).getKernel(kernelId)).hibernation).toBe('hibernated');
      // As with a pause in the holding process: the queued cell stopped waiting, the running one is frozen.
      await waitFor(() => cellView(page.doc, 'c2').state === 'idle', 'the queued cell stops waiting');
      expect(readExecutionState(page.doc)?.queue).toEqual([]);
      expect(cellView(page.doc, 'c1').text).not.toContain('done');

      // The cap was lifted: a run in the holding process wakes it, variables kept.
      await runOnHolder(['c2']);
      await holderService.whenIdle(notebookId);
      expect(cellView(page.doc, 'c1').text).toBe('0\n1\n2\n3\ndone\n');
      await waitFor(() => cellView(page.doc, 'c2').text === '42\n', 'the next cell runs on the woken kernel');
      await waitFor(() => readExecutionState(page.doc)?.kernel.status === 'idle', 'the page shows it idle');
      expect(readExecutionState(page.doc)?.kernel).toMatchObject({ status: 'idle', reason: null });
    } finally {
      page.close();
      await holderService.dispose();
      await otherService.dispose();
      await seeded.disconnect();
      await holder.close();
      await other.close();
    }
  }, 300_000);
});

describe('a paused kernel taken over by a restarted web process', () => {
  it('stays asleep and shows "Paused" and why until a run wakes it', async () => {
    const store = createMemoryKernelStore();
    const holder = await startCollabHttp();
    const process = () =>
      createExecutionService({
        gateway: kernels.gateway,
        openDocument: (id) => holder.collab.openDirectConnection(id),
        kernelStore: store,
      });
    const before = process();
    let after: ExecutionService | undefined;
    const notebookId = 'pause-restart-int';
    const seeded = await seedNotebook(holder.collab, notebookId, [
      'x = 41',
      'import time\nfor i in range(4):\n    print(i, flush=True)\n    time.sleep(1)\nprint("done")',
      'print(x + 1)',
    ]);
    const doc = seeded.document;
    const runOn = (service: ExecutionService, cellIds: string[]) =>
      service.run({ notebookId, workspaceId, target: { kind: 'cells', cellIds }, user: ada });
    try {
      await runOn(before, ['c0']);
      await before.whenIdle(notebookId);
      const kernelId = readExecutionState(doc)?.kernel.kernelId ?? '';
      expect(kernelId).not.toBe('');
      await runOn(before, ['c1']);
      await waitFor(() => cellView(doc, 'c1').text.startsWith('0\n'), 'the loop printing', 60_000);
      expect(await before.pause(kernelId, REASON)).toBe(true);

      // The web process restarts while the cap still holds; its successor takes the kernel over.
      await before.detach();
      after = process();
      expect(await after.resume()).toEqual([{ notebookId, outcome: 'attached', reason: null }]);
      // Re-attaching did not wake it: still asleep (and billing nothing) a while later, and saying why.
      await new Promise((resolve) => setTimeout(resolve, 3000));
      expect((await kernels.client(workspaceId).getKernel(kernelId)).hibernation).toBe('hibernated');
      expect(readExecutionState(doc)?.kernel).toMatchObject({ status: 'paused', reason: REASON });
      expect(cellView(doc, 'c1').text).not.toContain('done');

      // The cap was lifted: the next run wakes it, the frozen cell finishes first, variables kept.
      await runOn(after, ['c2']);
      await after.whenIdle(notebookId);
      expect(cellView(doc, 'c1').text).toBe('0\n1\n2\n3\ndone\n');
      expect(cellView(doc, 'c2').text).toBe('42\n');
      expect(readExecutionState(doc)?.kernel).toMatchObject({ status: 'idle', reason: null });
      expect((await kernels.client(workspaceId).getKernel(kernelId)).hibernation).toBe('awake');
    } finally {
      await before.dispose();
      await after?.dispose();
      await seeded.disconnect();
      await holder.close();
    }
  }, 300_000);
});
