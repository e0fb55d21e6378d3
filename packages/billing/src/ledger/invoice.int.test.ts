import { randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '@kiln/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { containerEvents, createEventLog } from '../../test/synthetic-events.ts';
import { createMeter } from '../meter/meter.ts';
import { invoiceFor } from './invoice.ts';
import { periodFromKey } from './period.ts';
import { costBy, dailyCost, windowCost } from './usage-queries.ts';

let database: TestDatabase;
const ws = randomUUID();
const alice = randomUUID();
const bob = randomUUID();
const hour = 3600_000;
const at = (day: number, h: number) => new Date(Date.UTC(2026, 11, day) + h * hour);

beforeAll(async () => {
  database = await createTestDatabase({ max: 4 });
  const log = createEventLog();
  const run = (
    start: Date,
    end: Date,
    resources: Parameters<typeof containerEvents>[2],
    memberId: string,
    ownerId: string,
  ) =>
    log.events.push(
      ...containerEvents(
        ws,
        [
          { to: 'starting', at: new Date(start.getTime() - 1500) },
          { to: 'running', at: start },
          { to: 'stopped', at: end },
        ],
        resources,
        { memberId, ownerId },
      ),
    );
  // The fixture month, December 2026:
  run(
    at(3, 9),
    at(3, 19),
    { cpu: 8, memoryMiB: 32 * 1024, gpu: { type: 'H100', count: 1 } },
    alice,
    'nb-train',
  );
  run(
    at(10, 0),
    at(10, 3.5),
    { cpu: 4, memoryMiB: 16 * 1024, gpu: { type: 'A10', count: 2 } },
    bob,
    'nb-infer',
  );
  run(at(12, 0), at(16, 4), { cpu: 0.1, memoryMiB: 512, gpu: null }, bob, 'nb-etl');
  // Starts on Nov 30 at 23:00 and ends on Dec 1 at 01:00: one hour belongs to each month.
  run(at(0, 23), at(1, 1), { cpu: 1, memoryMiB: 1024, gpu: null }, alice, 'nb-etl');
  // Another workspace's usage never shows up.
  log.events.push(
    ...containerEvents(
      randomUUID(),
      [
        { to: 'running', at: at(5, 0) },
        { to: 'stopped', at: at(6, 0) },
      ],
      { cpu: 8, memoryMiB: 8192, gpu: { type: 'B200', count: 8 } },
    ),
  );
  await createMeter({ db: database.db, events: log.source }).sync();
});
afterAll(() => database?.drop());

describe("a fixture month's invoice", () => {
  it('equals the hand calculation to the cent', async () => {
    const invoice = await invoiceFor(database.db, ws, periodFromKey('2026-12'), {
      baseCents: 0,
      creditMicros: 30_000_000n,
    });
    // H100: 36,000 s * $0.001097 = $39.492 -> $39.49
    // A10: 2 * 12,600 s * $0.000306 = $7.7112 -> $7.71
    // CPU: 8*36,000 + 4*12,600 + 0.125*360,000 (the minimum) + 1*3,600 core-s = 387,000 core-s
    //      * $0.0000131 = $5.0697 -> $5.07
    // Memory: 32*36,000 + 16*12,600 + 0.5*360,000 + 1*3,600 GiB-s = 1,537,200 GiB-s
    //      * $0.00000222 = $3.412584 -> $3.41
    expect(invoice.lines.map((line) => [line.key, line.quantity, line.amountCents])).toEqual([
      ['gpu:A10', 25_200, 771],
      ['gpu:H100', 36_000, 3949],
      ['cpu', 387_000, 507],
      ['memory', 1_537_200, 341],
    ]);
    expect(invoice.usageCents).toBe(5568);
    // Starter: $30 of credits, no base fee.
    expect(invoice.creditsAppliedCents).toBe(3000);
    expect(invoice.totalCents).toBe(2568);
  });

  it('on Team, credits pay usage but never the base fee', async () => {
    const invoice = await invoiceFor(database.db, ws, periodFromKey('2026-12'), {
      baseCents: 25_000,
      creditMicros: 100_000_000n,
    });
    expect(invoice.lines[0]).toMatchObject({ key: 'base', amountCents: 25_000 });
    expect(invoice.creditsAppliedCents).toBe(5568);
    expect(invoice.totalCents).toBe(25_000);
  });

  it('the usage views add up to the invoice', async () => {
    const window = { from: at(1, 0), to: at(32, 0) };
    const total = await windowCost(database.db, ws, window);
    expect(total.total).toBe(55_685_484n); // $55.685484: the exact sum the four lines round
    const days = await dailyCost(database.db, ws, window);
    expect(days).toHaveLength(31);
    expect(days.reduce((sum, day) => sum + day.gpu + day.cpu + day.memory, 0n)).toBe(
      total.gpu + total.cpu + total.memory,
    );
    expect(days.find((day) => day.day === '2026-12-03')?.gpu).toBe(39_492_000n);
    const byNotebook = await costBy(database.db, ws, window, 'owner');
    expect(byNotebook.map((row) => row.key)).toEqual(['nb-train', 'nb-infer', 'nb-etl']);
    expect(byNotebook.reduce((sum, row) => sum + row.gpu + row.cpu + row.memory, 0n)).toBe(
      total.gpu + total.cpu + total.memory,
    );
    const bobs = await windowCost(database.db, ws, window, bob);
    expect((await costBy(database.db, ws, window, 'member')).find((row) => row.key === bob)?.total).toBe(
      bobs.total,
    );
  });

  it('reads the daily rollup on day edges and every slice otherwise, with the same totals', async () => {
    const aligned = await windowCost(database.db, ws, { from: at(3, 0), to: at(4, 0) });
    const unaligned = await windowCost(database.db, ws, { from: at(3, 9), to: at(3, 19) });
    expect(aligned).toEqual(unaligned);
    expect(aligned.gpu).toBe(39_492_000n);
    const rollup = await database.db.usageDaily.findMany({ where: { workspaceId: ws } });
    expect(rollup.length).toBeGreaterThan(0);
  });

  it('the previous month keeps only its own hour of the slice that crossed midnight', async () => {
    const november = await invoiceFor(database.db, ws, periodFromKey('2026-11'), {
      baseCents: 0,
      creditMicros: 0n,
    });
    expect(november.lines.map((line) => [line.key, line.quantity])).toEqual([
      ['cpu', 3600],
      ['memory', 3600],
    ]);
  });
});
