import { createCollabServer } from '@kiln/collab';
import { findCell, getCellMetadata, readRunInfo } from '@kiln/notebook';
import { afterEach, describe, expect, it } from 'vitest';
import type * as Y from 'yjs';
import { createExecutionService } from './execution-service.ts';
import { FakeGateway } from './test-support/fake-gateway.ts';
import { seedNotebook, waitFor } from './test-support/notebook-fixture.ts';
import type { CellRunWindow, ExecutionServiceOptions } from './types.ts';

const alice = { userId: 'u-alice', name: 'Alice' };
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function setup(cells: string[], runCost?: ExecutionServiceOptions['runCost']) {
  const collab = createCollabServer({ onError: () => {}, unloadDelayMs: 0 });
  const gateway = new FakeGateway();
  const clock = { now: 1_796_284_800_000 };
  const errors: string[] = [];
  const service = createExecutionService({
    gateway: () => gateway,
    openDocument: (id) => collab.openDirectConnection(id),
    clock: () => clock.now,
    runCost,
    onError: ({ stage }) => void errors.push(stage),
  });
  const connection = await seedNotebook(collab, 'nb', cells);
  cleanup.push(() => collab.close());
  cleanup.push(() => connection.disconnect());
  cleanup.push(() => service.dispose());
  return { service, gateway, clock, errors, doc: connection.document };
}

const info = (doc: Y.Doc, cellId: string) => {
  const cell = findCell(doc, cellId);
  return cell ? readRunInfo(getCellMetadata(cell)) : null;
};

describe("a cell's duration and cost", () => {
  it('records how long each cell ran and what its kernel cost meanwhile, for every collaborator', async () => {
    const asked: CellRunWindow[] = [];
    const { service, gateway, clock, doc } = await setup(['hold a', 'b'], async (window) => {
      asked.push(window);
      return { costMicros: Math.round((window.endedAt - window.startedAt) / 10), ratePerHourMicros: 360_000 };
    });
    await service.run({ notebookId: 'nb', workspaceId: 'ws', target: { kind: 'all' }, user: alice });
    await waitFor(() => gateway.holding === 1, 'first cell running');
    expect(info(doc, 'c0')).toMatchObject({ durationMs: null, costMicros: null });
    clock.now += 2_500;
    gateway.release();
    await service.whenIdle('nb');
    await waitFor(() => info(doc, 'c1')?.costMicros !== null, 'second cell priced');
    const first = info(doc, 'c0');
    expect(first).toMatchObject({ durationMs: 2_500, costMicros: 250, ratePerHourMicros: 360_000 });
    expect(info(doc, 'c1')).toMatchObject({ durationMs: 0, costMicros: 0 });
    expect(asked.map((w) => [w.cellId, w.endedAt - w.startedAt, w.workspaceId])).toEqual([
      ['c0', 2_500, 'ws'],
      ['c1', 0, 'ws'],
    ]);
    expect(asked[0]?.kernelId).toBeTruthy();
    // Running it again replaces the record; the earlier figures do not linger.
    await service.run({
      notebookId: 'nb',
      workspaceId: 'ws',
      target: { kind: 'cells', cellIds: ['c1'] },
      user: alice,
    });
    await service.whenIdle('nb');
    await waitFor(() => asked.length === 3, 'third price asked');
    expect(info(doc, 'c1')?.startedAt).toBe(clock.now);
  });

  it('keeps the duration when the price cannot be had, and says nothing false about cost', async () => {
    const { service, errors, doc } = await setup(['a'], async () => {
      throw new Error('ledger down');
    });
    await service.run({ notebookId: 'nb', workspaceId: 'ws', target: { kind: 'all' }, user: alice });
    await service.whenIdle('nb');
    await waitFor(() => errors.includes('price run'), 'pricing failure reported');
    expect(info(doc, 'c0')).toMatchObject({ durationMs: 0, costMicros: null });
  });
});
