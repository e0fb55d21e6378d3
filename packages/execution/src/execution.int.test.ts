import { randomUUID } from 'node:crypto';
import { createCollabServer, createMemoryStore, type DirectConnection } from '@kiln/collab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExecutionService } from './execution-service.ts';
import { readExecutionState } from './execution-state.ts';
import { OVERFLOW_KEY_PATTERN } from './overflow-store.ts';
import { connectClient, startCollabHttp } from './test-support/collab-http.ts';
import { startKernelGateway } from './test-support/gateway.ts';
import { cellView, seedNotebook, waitFor } from './test-support/notebook-fixture.ts';
import type { ExecutionService, RunTarget } from './types.ts';

// Real kernels behind a real kernel gateway, a real collab server (memory store) and, where a test says
// so, real y-websocket clients. Every test but the websocket ones runs with no client connected at all.
// One notebook (so one kernel) is shared by the tests, which reseed its cells.

const NOTEBOOK = 'exec-int';
const workspaceId = randomUUID();
const ada = { userId: 'u-ada', name: 'Ada' };
const store = createMemoryStore();
let kernels: Awaited<ReturnType<typeof startKernelGateway>>;
let server: Awaited<ReturnType<typeof startCollabHttp>>;
let service: ExecutionService;
let seed: DirectConnection;

beforeAll(async () => {
  kernels = await startKernelGateway();
  server = await startCollabHttp({ store });
  service = createExecutionService({
    gateway: kernels.gateway,
    openDocument: (id) => server.collab.openDirectConnection(id),
    limits: { output: { maxOutputBytes: 100_000 } },
  });
  // The first run on a machine builds the sandbox image (minutes); later runs find it ready.
}, 900_000);

afterAll(async () => {
  await service?.dispose();
  await seed?.disconnect();
  await server?.close();
  await kernels?.close();
});

async function notebook(...cells: string[]) {
  await seed?.disconnect();
  seed = await seedNotebook(server.collab, NOTEBOOK, cells);
  return seed.document;
}

function run(target: RunTarget = { kind: 'all' }) {
  return service.run({ notebookId: NOTEBOOK, workspaceId, target, user: ada });
}

async function runAll() {
  await run();
  await service.whenIdle(NOTEBOOK);
}

describe('server-side execution against a real kernel', () => {
  it('answers completion and inspection empty, starting no kernel, before the notebook ever ran', async () => {
    await notebook('import os');
    expect(await service.complete(NOTEBOOK, 'import os\nos.pa', 12)).toEqual({
      matches: [],
      cursorStart: 12,
      cursorEnd: 12,
      metadata: {},
    });
    expect(await service.inspect(NOTEBOOK, 'len', 3, 0)).toEqual({ found: false, data: {} });
    expect(await kernels.client(workspaceId).listKernels()).toEqual([]);
  });

  it('merges a loop of prints into one stream output, with no browser connected', async () => {
    const doc = await notebook(
      'import time\nfor i in range(20):\n    print(i, flush=True)\n    time.sleep(0.01)',
    );
    await runAll();
    const cell = cellView(doc, 'c0');
    expect(cell.outputs).toHaveLength(1);
    expect(cell.outputs[0]).toMatchObject({ output_type: 'stream', name: 'stdout' });
    expect(cell.text).toBe(Array.from({ length: 20 }, (_, i) => `${i}\n`).join(''));
    expect(cell.count).toBeGreaterThan(0);
    expect(cell.state).toBe('idle');
    expect(readExecutionState(doc)).toMatchObject({ kernel: { status: 'idle' }, running: null, queue: [] });
  });

  it('runs all cells in order with consecutive execution counts', async () => {
    const doc = await notebook('order = []', 'order.append(1)', 'order.append(2)', 'order');
    await runAll();
    const counts = ['c0', 'c1', 'c2', 'c3'].map((id) => cellView(doc, id).count as number);
    expect(counts.map((count) => count - (counts[0] as number))).toEqual([0, 1, 2, 3]);
    expect(cellView(doc, 'c3').text).toBe('[1, 2]');
  });

  it('stops the rest of the run after an error', async () => {
    const doc = await notebook('x = 1', '1/0', 'print("never")');
    await runAll();
    expect(cellView(doc, 'c1').text).toBe('ZeroDivisionError: division by zero');
    expect(cellView(doc, 'c2')).toMatchObject({ state: 'idle', count: null, outputs: [] });
  });

  it('interrupts a while True loop: KeyboardInterrupt, the queue is dropped, the kernel lives on', async () => {
    const doc = await notebook('while True:\n    pass', 'print("after")', 'print("alive")');
    await run({ kind: 'cells', cellIds: ['c0', 'c1'] });
    await waitFor(() => readExecutionState(doc)?.kernel.status === 'busy', 'loop running');
    await new Promise((resolve) => setTimeout(resolve, 200));
    await service.interrupt(NOTEBOOK);
    await service.whenIdle(NOTEBOOK);
    expect(cellView(doc, 'c0')).toMatchObject({ state: 'idle', text: 'KeyboardInterrupt: ' });
    expect(cellView(doc, 'c1')).toMatchObject({ state: 'idle', outputs: [] });
    await run({ kind: 'cells', cellIds: ['c2'] });
    await service.whenIdle(NOTEBOOK);
    expect(cellView(doc, 'c2').text).toBe('alive\n');
  });

  it('rewrites a display from a later cell with update_display_data', async () => {
    const doc = await notebook("h = display('first', display_id=True)", "h.update('second')");
    await runAll();
    expect(cellView(doc, 'c0').text).toBe("'second'");
    expect(cellView(doc, 'c1').outputs).toEqual([]);
  });

  it('honours clear_output(wait=True): the old output goes when the next one arrives', async () => {
    const doc = await notebook(
      "from IPython.display import clear_output\nprint('old')\nclear_output(wait=True)\nprint('new')",
    );
    await runAll();
    expect(cellView(doc, 'c0').outputs).toEqual([{ output_type: 'stream', name: 'stdout', text: 'new\n' }]);
  });

  it('redraws a tqdm progress bar in place', async () => {
    const doc = await notebook(
      'from tqdm import tqdm\nimport time\nfor _ in tqdm(range(40), mininterval=0, ascii=True):\n    time.sleep(0.002)',
    );
    await runAll();
    const cell = cellView(doc, 'c0');
    expect(cell.outputs).toHaveLength(1);
    expect(cell.outputs[0]).toMatchObject({ output_type: 'stream', name: 'stderr' });
    expect(cell.text).not.toContain('\r');
    expect(cell.text.trim().split('\n')).toHaveLength(1);
    expect(cell.text).toMatch(/100%.*40\/40/);
  });

  it('completes and inspects on the running kernel, in UTF-16 offsets, without touching the kernel status', async () => {
    const doc = await notebook('café = 1\nimport os');
    await runAll();
    const updated = readExecutionState(doc)?.updatedAt;
    const os = await service.complete(NOTEBOOK, 'import os\nos.pa', 15);
    expect(os.matches).toContain('path');
    expect(os).toMatchObject({ cursorStart: 13, cursorEnd: 15 });
    // 😀 is two UTF-16 units but one code point: the kernel's range must come back in UTF-16.
    const code = 'x = "😀"; caf';
    const cafe = await service.complete(NOTEBOOK, code, code.length);
    expect(cafe.matches).toContain('café');
    expect(code.slice(cafe.cursorStart, cafe.cursorEnd)).toBe('caf');
    const help = await service.inspect(NOTEBOOK, 'len(', 3, 0);
    expect(help.found).toBe(true);
    expect(String(help.data['text/plain'])).toContain('Return the number of items in a container');
    expect(readExecutionState(doc)).toMatchObject({ kernel: { status: 'idle' }, updatedAt: updated });
  });

  it('answers completion empty at once while a cell runs (the kernel would only answer after it)', async () => {
    const doc = await notebook('import time\ntime.sleep(5)');
    await run();
    await waitFor(() => readExecutionState(doc)?.running !== null, 'cell running');
    expect((await service.complete(NOTEBOOK, 'import os\nos.pa', 15)).matches).toEqual([]);
    // Answered before the cell finished, so typing never waits for a running cell.
    expect(readExecutionState(doc)?.running).not.toBeNull();
    await service.whenIdle(NOTEBOOK);
  });

  it('shows input() as a pending prompt and sends the answer', async () => {
    const doc = await notebook("name = input('Name? ')\nprint('hello', name)");
    await run();
    await waitFor(() => readExecutionState(doc)?.input !== null, 'input prompt');
    expect(readExecutionState(doc)?.input).toMatchObject({ cellId: 'c0', prompt: 'Name? ', password: false });
    await service.answerInput(NOTEBOOK, 'Ada');
    await service.whenIdle(NOTEBOOK);
    expect(cellView(doc, 'c0').text).toBe('Name? Ada\nhello Ada\n');
    expect(readExecutionState(doc)?.input).toBeNull();
    await expect(service.answerInput(NOTEBOOK, 'late')).rejects.toThrow('waiting for input');
  });

  it('interrupting a cell that waits for input ends it and withdraws the prompt', async () => {
    const doc = await notebook("input('Never answered: ')");
    await run();
    await waitFor(() => readExecutionState(doc)?.input !== null, 'input prompt');
    await service.interrupt(NOTEBOOK);
    await service.whenIdle(NOTEBOOK);
    expect(cellView(doc, 'c0')).toMatchObject({
      state: 'idle',
      text: 'KeyboardInterrupt: Interrupted by user',
    });
    expect(readExecutionState(doc)?.input).toBeNull();
  });

  it('keeps output past the cap downloadable under the key in the note', async () => {
    const doc = await notebook("print('x' * 300_000)");
    await runAll();
    const text = cellView(doc, 'c0').text;
    expect(text.length).toBeLessThan(101_000);
    const key = [...text.matchAll(OVERFLOW_KEY_PATTERN)][0]?.[1] as string;
    expect(text).toContain('output truncated');
    const download = await service.overflow.get(NOTEBOOK, key);
    expect(download).toMatchObject({ notebookId: NOTEBOOK, cellId: 'c0', complete: true });
    expect(download?.body).toBe(`${'x'.repeat(300_000)}\n`);
  });

  it('a second client sees outputs live over the websocket', async () => {
    await notebook('import time\nfor i in range(5):\n    print(i, flush=True)\n    time.sleep(0.3)');
    const client = connectClient(server.url, NOTEBOOK);
    try {
      await waitFor(() => client.provider.synced, 'client synced');
      await run();
      await waitFor(() => cellView(client.doc, 'c0').text.startsWith('0\n'), 'first line at the client');
      expect(readExecutionState(client.doc)?.running).toMatchObject({ cellId: 'c0', by: ada });
      expect(cellView(client.doc, 'c0').state).toBe('running');
      await service.whenIdle(NOTEBOOK);
      await waitFor(() => cellView(client.doc, 'c0').state === 'idle', 'idle at the client');
      expect(cellView(client.doc, 'c0').text).toBe('0\n1\n2\n3\n4\n');
    } finally {
      client.close();
    }
  });

  it('records the whole output when every client leaves mid-run', async () => {
    await notebook('import time\nfor i in range(6):\n    print(i, flush=True)\n    time.sleep(0.2)');
    const client = connectClient(server.url, NOTEBOOK);
    await waitFor(() => client.provider.synced, 'client synced');
    await run();
    await waitFor(() => cellView(client.doc, 'c0').text.startsWith('0\n'), 'first line at the client');
    client.close();
    await seed.disconnect();
    await service.whenIdle(NOTEBOOK);
    // What a browser opening the notebook later gets: the stored document, loaded by a fresh server.
    const later = await createCollabServer({ store, onError: () => {} }).openDirectConnection(NOTEBOOK);
    expect(cellView(later.document, 'c0')).toMatchObject({ state: 'idle', text: '0\n1\n2\n3\n4\n5\n' });
    await later.disconnect();
  });

  it('restart clears the queue and gives a fresh interpreter', async () => {
    const doc = await notebook(
      'secret = 42\nimport time\ntime.sleep(30)',
      'print("queued")',
      'print("secret" in globals())',
    );
    await run({ kind: 'cells', cellIds: ['c0', 'c1'] });
    await waitFor(() => readExecutionState(doc)?.running?.cellId === 'c0', 'sleeping cell running');
    await service.restart(NOTEBOOK);
    expect(readExecutionState(doc)).toMatchObject({ kernel: { status: 'idle' }, running: null, queue: [] });
    expect(cellView(doc, 'c0').state).toBe('idle');
    expect(cellView(doc, 'c1')).toMatchObject({ state: 'idle', outputs: [] });
    await run({ kind: 'cells', cellIds: ['c2'] });
    await service.whenIdle(NOTEBOOK);
    expect(cellView(doc, 'c2').text).toBe('False\n');
  });

  it('reports a dead kernel with its reason and starts a new one on the next run', async () => {
    const doc = await notebook('import os\nos._exit(3)', 'print("never")', 'print("new kernel")');
    const before = readExecutionState(doc)?.kernel.kernelId;
    await run({ kind: 'cells', cellIds: ['c0', 'c1'] });
    await service.whenIdle(NOTEBOOK);
    expect(readExecutionState(doc)?.kernel).toMatchObject({
      status: 'dead',
      reason: expect.stringContaining('3'),
    });
    expect(cellView(doc, 'c0')).toMatchObject({ state: 'idle', text: expect.stringContaining('KernelDied') });
    // The cell queued behind it did not run; it is idle again with the outputs it had (none), as in
    // JupyterLab, and the running cell and the kernel bar carry why.
    expect(cellView(doc, 'c1')).toMatchObject({ state: 'idle', outputs: [] });
    await run({ kind: 'cells', cellIds: ['c2'] });
    await service.whenIdle(NOTEBOOK);
    expect(cellView(doc, 'c2').text).toBe('new kernel\n');
    expect(readExecutionState(doc)?.kernel).toMatchObject({ status: 'idle', reason: null });
    expect(readExecutionState(doc)?.kernel.kernelId).not.toBe(before);
  });

  it('dispose shuts the kernels down', async () => {
    const client = kernels.client(workspaceId);
    expect(await client.listKernels()).toHaveLength(1);
    await service.dispose();
    expect(await client.listKernels()).toEqual([]);
  });
});
