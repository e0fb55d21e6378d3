import { randomUUID } from 'node:crypto';
import { createCollabServer, createMemoryStore, type DocumentStore } from '@kiln/collab';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { createExecutionService } from './execution-service.ts';
import { createMemoryKernelStore } from './kernel-store.ts';
import { startKernelGateway } from './test-support/gateway.ts';
import { cellView, seedNotebook, waitFor } from './test-support/notebook-fixture.ts';
import { processStores, startTcpProxy } from './test-support/process-death.ts';
import type { KernelStore } from './types.ts';

// A web process killed with -9 mid-run, inside one test process: its stores stop taking its writes
// and a TCP proxy resets its connections to a real kernel gateway (real runsc kernel), which is all
// the gateway and the database see of a dead process. A second web process (its own collab server
// and execution service over the same stores) takes the kernel over.

const TICKS = 50;
const CELLS = [
  `x = 42\nimport time\nfor i in range(${TICKS}):\n    print(f'tick {i}', flush=True)\n    time.sleep(0.1)\nprint('done')`,
  "print('after', x)",
];
const EVERY_TICK = Array.from({ length: TICKS }, (_, i) => `tick ${i}`);
const workspaceId = randomUUID();
const ada = { userId: 'u-ada', name: 'Ada' };
let kernels: Awaited<ReturnType<typeof startKernelGateway>>;
const cleanup: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  kernels = await startKernelGateway();
}, 900_000);

afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step().catch(() => undefined);
});

afterAll(async () => {
  await kernels?.close();
});

const ticks = (doc: Y.Doc): string[] => cellView(doc, 'c0').text.match(/tick \d+/g) ?? [];

/** The notebook as a fresh load from the store reads it. */
async function storedDoc(documents: DocumentStore, notebookId: string): Promise<Y.Doc> {
  const doc = new Y.Doc();
  for (const update of (await documents.load(notebookId)).updates) Y.applyUpdate(doc, update);
  return doc;
}

/** A web process that runs the notebook through a proxy it can be cut off by. */
async function firstProcess(notebookId: string, reattachMs: number) {
  const documents = createMemoryStore();
  const kernelStore = createMemoryKernelStore();
  const stores = processStores(documents, kernelStore);
  const proxy = await startTcpProxy(Number(new URL(kernels.url).port));
  const collab = createCollabServer({ store: stores.documents, onError: () => {}, unloadDelayMs: 0 });
  const seed = await seedNotebook(collab, notebookId, CELLS);
  const service = createExecutionService({
    gateway: kernels.gatewayVia(proxy.url),
    openDocument: (id) => collab.openDirectConnection(id),
    kernelStore: stores.kernels,
    reattachMs,
    onError: () => {},
  });
  cleanup.push(async () => {
    stores.kill();
    await proxy.close();
    await seed.disconnect();
    await collab.close();
  });
  await service.run({ notebookId, workspaceId, target: { kind: 'all' }, user: ada });
  return { doc: seed.document, documents, kernelStore, stores, proxy, service };
}

/** A web process started after the first died, over the same stores. */
async function nextProcess(notebookId: string, documents: DocumentStore, kernelStore: KernelStore) {
  const collab = createCollabServer({ store: documents, onError: () => {}, unloadDelayMs: 0 });
  const service = createExecutionService({
    gateway: kernels.gateway,
    openDocument: (id) => collab.openDirectConnection(id),
    kernelStore,
    reattachMs: 60_000,
  });
  cleanup.push(async () => {
    await service.dispose();
    await collab.close();
  });
  expect(await service.resume()).toEqual([{ notebookId, outcome: 'attached', reason: null }]);
  const connection = await collab.openDirectConnection(notebookId);
  cleanup.push(() => connection.disconnect());
  return { doc: connection.document, service };
}

async function expectEveryTickOnce(doc: Y.Doc, documents: DocumentStore, notebookId: string) {
  await waitFor(() => cellView(doc, 'c1').text.includes('after 42'), 'the queued cell ran', 120_000);
  expect(ticks(doc)).toEqual(EVERY_TICK);
  expect(cellView(doc, 'c0').text).toContain('done');
  // Stored, not only shown: a fresh load reads the same.
  let stored = new Y.Doc();
  for (let i = 0; i < 100; i++) {
    stored = await storedDoc(documents, notebookId);
    if (cellView(stored, 'c1').text.includes('after 42')) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  expect(cellView(stored, 'c1').text).toContain('after 42');
  expect(ticks(stored)).toEqual(EVERY_TICK);
}

describe('kernel output survives a web process killed mid-run', () => {
  it('output the killed process had received but not stored reaches the notebook through the next one, once', async () => {
    const notebookId = 'nb-unstored';
    const a = await firstProcess(notebookId, 1000);
    await waitFor(() => ticks(a.doc).includes('tick 3'), 'the first ticks', 180_000);
    // From here on the process stores nothing: what it receives stays in its memory.
    a.stores.kill();
    await waitFor(() => ticks(a.doc).includes('tick 8'), 'ticks it will never store', 60_000);
    a.proxy.kill();
    const before = await storedDoc(a.documents, notebookId);
    expect(ticks(before)).not.toContain('tick 8');
    expect(cellView(before, 'c0').text).not.toContain('done');

    const b = await nextProcess(notebookId, a.documents, a.kernelStore);
    await expectEveryTickOnce(b.doc, a.documents, notebookId);
  });

  it('output the killed process had stored but not acknowledged is not written twice', async () => {
    const notebookId = 'nb-unacked';
    const a = await firstProcess(notebookId, 1000);
    await waitFor(() => ticks(a.doc).includes('tick 3'), 'the first ticks', 180_000);
    // Its acknowledgements stop reaching the gateway; it still receives and stores.
    a.proxy.muteClient();
    for (let i = 0; !ticks(await storedDoc(a.documents, notebookId)).includes('tick 8'); i++) {
      if (i > 600) throw new Error('tick 8 was never stored');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    a.stores.kill();
    a.proxy.kill();

    const b = await nextProcess(notebookId, a.documents, a.kernelStore);
    await expectEveryTickOnce(b.doc, a.documents, notebookId);
  });

  it('a reconnect while output waits to be stored writes nothing twice', async () => {
    const notebookId = 'nb-slow-store';
    const a = await firstProcess(notebookId, 60_000);
    cleanup.push(() => a.service.dispose());
    await waitFor(() => ticks(a.doc).includes('tick 3'), 'the first ticks', 180_000);
    // The database hangs: output is applied but neither stored nor acknowledged...
    a.stores.hold();
    await waitFor(() => ticks(a.doc).includes('tick 8'), 'ticks waiting to be stored', 60_000);
    // ...when the connection to the gateway breaks: the re-attach is replayed what was not acknowledged.
    a.proxy.cut();
    await waitFor(() => ticks(a.doc).includes('tick 14'), 'ticks after the reconnect', 60_000);
    a.stores.release();
    await expectEveryTickOnce(a.doc, a.documents, notebookId);
  });
});
