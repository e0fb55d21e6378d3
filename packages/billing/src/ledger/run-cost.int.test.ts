import { randomBytes } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '@kiln/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { containerEvents, createEventLog } from '../../test/synthetic-events.ts';
import { createMeter } from '../meter/meter.ts';
import { costMicros, DEFAULT_PRICE_BOOK } from '../price-book.ts';
import { publishPriceBook } from '../price-versions.ts';
import { containerRunCost, ownerCosts } from './run-cost.ts';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase({ max: 4 });
});
afterAll(() => database?.drop());

const T0 = Date.UTC(2026, 10, 3, 9);
const at = (s: number) => new Date(T0 + s * 1000);
const h100 = { cpu: 1, memoryMiB: 4096, gpu: { type: 'H100', count: 1 } };

async function container(): Promise<{ workspaceId: string; id: string }> {
  const suffix = randomBytes(4).toString('hex');
  const ws = await database.db.workspace.create({ data: { name: `ws ${suffix}`, slug: `ws-${suffix}` } });
  const row = await database.db.container.create({
    data: {
      workspaceId: ws.id,
      kind: 'kernel',
      ownerId: 'nb-1',
      cpu: 1,
      memoryMiB: 4096,
      gpuRequest: ['H100'],
      gpuType: 'H100',
      gpuIndices: [0],
      state: 'running',
      requestedAt: at(0),
      stateChangedAt: at(1),
      runningAt: at(1),
      eventSeq: 2,
    },
  });
  return { workspaceId: ws.id, id: row.id };
}

describe("a cell's cost from the ledger", () => {
  it('prices a run at its slice rates, nothing for a hibernated gap', async () => {
    const { workspaceId, id } = await container();
    const log = createEventLog();
    log.events.push(
      ...containerEvents(
        workspaceId,
        [
          { to: 'starting', at: at(0) },
          { to: 'running', at: at(1) },
          { to: 'hibernated', at: at(61) },
          { to: 'starting', at: at(600) },
          { to: 'running', at: at(601) },
        ],
        h100,
        { containerId: id },
      ),
    );
    await createMeter({ db: database.db, events: log.source, cursorName: `c-${id}` }).sync();
    const resources = { cpuMillicores: 1000, memoryMiB: 4096, gpu: { type: 'H100', count: 1 } };
    const perSecond = costMicros(DEFAULT_PRICE_BOOK, resources, 1000);
    // A 10 s cell inside the first slice.
    const short = await containerRunCost(database.db, id, at(11), at(21));
    expect(short?.costMicros).toBe(costMicros(DEFAULT_PRICE_BOOK, resources, 10_000));
    expect(short?.ratePerHourMicros).toBe(costMicros(DEFAULT_PRICE_BOOK, resources, 3_600_000));
    // A run from 51 s to 611 s spans the hibernation: only 10 s + 10 s of it were running.
    const across = await containerRunCost(database.db, id, at(51), at(611));
    expect(across?.costMicros).toBe(costMicros(DEFAULT_PRICE_BOOK, resources, 20_000));
    expect(across?.costMicros).toBeGreaterThan(19n * perSecond);
    // A zero-length run costs nothing, and an unknown container has no price.
    expect((await containerRunCost(database.db, id, at(30), at(30)))?.costMicros).toBe(0n);
    expect(await containerRunCost(database.db, '00000000-0000-4000-8000-000000000000', at(1), at(2))).toBe(
      null,
    );
    expect(await containerRunCost(database.db, 'kernel-from-elsewhere', at(1), at(2))).toBe(null);
  });

  it('prices a container the meter has not reached yet by the book in force, as its slice will be', async () => {
    const { id } = await container();
    const book = { ...DEFAULT_PRICE_BOOK, gpu: { ...DEFAULT_PRICE_BOOK.gpu, H100: 2_000_000 } };
    const version = await publishPriceBook(database.db, book, { note: 'H100 up' });
    const from = new Date(version.effectiveFrom.getTime() + 5000);
    const cost = await containerRunCost(database.db, id, from, new Date(from.getTime() + 2500));
    const resources = { cpuMillicores: 1000, memoryMiB: 4096, gpu: { type: 'H100', count: 1 } };
    expect(cost?.costMicros).toBe(costMicros(book, resources, 2500));
    expect(cost?.costMicros).not.toBe(costMicros(DEFAULT_PRICE_BOOK, resources, 2500));
  });

  it("prices windows of a notebook's kernels in one query, in the order asked", async () => {
    const { workspaceId, id } = await container();
    const log = createEventLog();
    log.events.push(
      ...containerEvents(
        workspaceId,
        [
          { to: 'starting', at: at(0) },
          { to: 'running', at: at(100) },
          { to: 'stopped', at: at(160) },
        ],
        h100,
        { containerId: id, ownerId: 'nb-sched' },
      ),
    );
    await createMeter({ db: database.db, events: log.source, cursorName: `o-${id}` }).sync();
    const resources = { cpuMillicores: 1000, memoryMiB: 4096, gpu: { type: 'H100', count: 1 } };
    const costs = await ownerCosts(database.db, workspaceId, 'nb-sched', [
      { from: at(150), to: at(200) },
      { from: at(0), to: at(50) },
      { from: at(90), to: at(130) },
    ]);
    expect(costs).toEqual([
      costMicros(DEFAULT_PRICE_BOOK, resources, 10_000),
      0n,
      costMicros(DEFAULT_PRICE_BOOK, resources, 30_000),
    ]);
    expect(
      await ownerCosts(database.db, workspaceId, 'another-notebook', [{ from: at(0), to: at(500) }]),
    ).toEqual([0n]);
  });
});
