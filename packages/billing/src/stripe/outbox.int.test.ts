import { randomBytes, randomUUID } from 'node:crypto';
import { Prisma } from '@kiln/db';
import { createTestDatabase, type TestDatabase } from '@kiln/db/testing';
import { type StripeLocal, startStripeLocal } from '@kiln/stripe-local';
import type Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedMinuteTotals, outboxMinuteTotals } from '../../test/minute-totals.ts';
import { priceVersionAt } from '../price-versions.ts';
import { ensureCatalog } from './catalog.ts';
import { createStripeClient } from './client.ts';
import { DEFAULT_OUTBOX_OPTIONS, rollupStatement, rollupUsage, sendOutbox } from './outbox.ts';

const MINUTE = 60_000;
let database: TestDatabase;
let local: StripeLocal;
let stripe: Stripe;

beforeAll(async () => {
  database = await createTestDatabase({ max: 4 });
  local = await startStripeLocal({ webhooks: [] });
  stripe = createStripeClient({ localUrl: local.url });
  await ensureCatalog(database.db, stripe, { baseCents: 25_000 });
});
afterAll(async () => {
  await local?.close();
  await database?.drop();
});

async function workspace(withCustomer: boolean): Promise<{ id: string; customer: string | null }> {
  const suffix = randomBytes(4).toString('hex');
  const { id } = await database.db.workspace.create({ data: { name: `ws ${suffix}`, slug: `ws-${suffix}` } });
  if (!withCustomer) return { id, customer: null };
  const customer = (await stripe.customers.create({ metadata: { workspaceId: id } })).id;
  await database.db.billingAccount.create({
    data: { workspaceId: id, stripeCustomerId: customer, hasPaymentMethod: true, updatedAt: new Date() },
  });
  return { id, customer };
}

/** How one simulated container reaches the ledger. */
type Mode = 'on-time' | 'late-ingest' | 'late-close' | 'orphaned';
interface Sim {
  id: string;
  ws: string;
  mode: Mode;
  start: number;
  end: number;
  insertAt: number;
  heartbeatsUntil: number;
  closeAt: number;
  gpus: number;
  cores: number;
  gib: number;
  inserted: boolean;
  closed: boolean;
  heartbeat: number;
}

describe('Stripe usage rollup', () => {
  it("sends every slice's usage exactly once across runs, with slices ingested or closed after their minutes were rolled up", async () => {
    const { db } = database;
    const a = await workspace(true);
    const b = await workspace(true);
    const free = await workspace(false);
    let seed = 12_345;
    const rand = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const between = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo));
    // Minute-aligned, three hours back: inside Stripe's window, and the whole run is in the past.
    const t0 = Math.floor(Date.now() / MINUTE) * MINUTE - 180 * MINUTE;
    const version = await priceVersionAt(db, new Date(t0));
    const modes: Mode[] = ['on-time', 'late-ingest', 'late-close', 'orphaned'];
    const sims: Sim[] = Array.from({ length: 36 }, (_, i) => {
      const mode = modes[i % 4] as Mode;
      const start = t0 + between(0, 60 * MINUTE);
      const end = start + between(1000, 30 * MINUTE);
      const stall = start + Math.floor((end - start) * rand());
      const delay = between(3 * MINUTE, 12 * MINUTE);
      return {
        id: randomUUID(),
        ws: [a.id, b.id, free.id][i % 3] as string,
        mode,
        start,
        end,
        // The meter was down: the slice reaches the ledger minutes after it began (maybe closed).
        insertAt: mode === 'late-ingest' ? start + delay : start,
        // Heartbeats stop reaching the slice (a dead process), then the stop arrives late or never.
        heartbeatsUntil: mode === 'late-close' || mode === 'orphaned' ? stall : end,
        closeAt: mode === 'late-close' ? end + delay : mode === 'orphaned' ? stall + 45_000 : end,
        gpus: i % 5 === 0 ? 0 : between(1, 3),
        cores: between(1, 5),
        gib: between(1, 9),
        inserted: false,
        closed: false,
        heartbeat: start,
      };
    });

    const step = async (now: number) => {
      for (const sim of sims) {
        if (sim.closed || now < sim.insertAt) continue;
        const heartbeat = Math.max(sim.heartbeat, Math.min(now, sim.heartbeatsUntil));
        const closing = now >= sim.closeAt;
        // An orderly stop ends at its own time; an orphaned slice at its last heartbeat.
        const endAt = closing ? (sim.mode === 'orphaned' ? heartbeat : sim.end) : null;
        if (!sim.inserted) {
          await db.usageSlice.create({
            data: {
              id: `${sim.id}:2`,
              workspaceId: sim.ws,
              containerId: sim.id,
              periodSeq: 2,
              kind: 'kernel',
              ownerId: 'nb',
              gpuType: sim.gpus ? 'H100' : null,
              gpuCount: sim.gpus,
              cpuMillicores: sim.cores * 1000,
              memoryMiB: sim.gib * 1024,
              priceVersionId: version.id,
              gpuRateFemto: 0n,
              cpuRateFemto: 0n,
              memRateFemto: 0n,
              startAt: new Date(sim.start),
              heartbeatAt: new Date(endAt ?? heartbeat),
              endAt: endAt === null ? null : new Date(endAt),
              endReason: endAt === null ? null : sim.mode === 'orphaned' ? 'orphaned' : 'stopped',
            },
          });
        } else if (closing) {
          await db.usageSlice.update({
            where: { id: `${sim.id}:2` },
            data: {
              endAt: new Date(endAt as number),
              heartbeatAt: new Date(Math.max(heartbeat, endAt as number)),
              endReason: sim.mode === 'orphaned' ? 'orphaned' : 'stopped',
            },
          });
        } else if (heartbeat > sim.heartbeat) {
          await db.usageSlice.update({
            where: { id: `${sim.id}:2` },
            data: { heartbeatAt: new Date(heartbeat) },
          });
        }
        sim.inserted = true;
        sim.closed = closing;
        sim.heartbeat = heartbeat;
      }
    };

    // Every simulated minute the ledger moves and the rollup runs, skipping some minutes. Sends are
    // rarer, so rolled-up rows wait in the outbox across runs (a process that died between rollup and
    // send), and one send is followed by a crash before its rows were marked accepted.
    let now = t0;
    let runs = 0;
    let crashed = false;
    for (; sims.some((sim) => !sim.closed); now += MINUTE) {
      await step(now);
      if (rand() < 0.6) runs += (await rollupUsage(db, new Date(now))) > 0 ? 1 : 0;
      if (rand() < 0.1) {
        await sendOutbox(db, stripe, new Date());
        if (!crashed) {
          crashed = true;
          await db.usageOutbox.updateMany({ where: { status: 'accepted' }, data: { status: 'sent' } });
        }
      }
    }
    const settled = new Date(now + DEFAULT_OUTBOX_OPTIONS.settleMs + MINUTE);
    await rollupUsage(db, settled);
    expect(await rollupUsage(db, settled)).toBe(0);
    expect(await rollupUsage(db, new Date(settled.getTime() + 10 * MINUTE))).toBe(0);
    expect(runs).toBeGreaterThan(10);

    // Expected: every ledger slice, as Kiln bills it, split into minutes.
    const slices = await db.usageSlice.findMany({ where: { workspaceId: { in: [a.id, b.id, free.id] } } });
    expect(slices).toHaveLength(sims.length);
    for (const slice of slices) expect(slice.rollupDone).toBe(true);
    const expected = expectedMinuteTotals(
      slices
        .filter((slice) => slice.workspaceId !== free.id)
        .map((slice) => ({ ...slice, endAt: slice.endAt as Date })),
    );
    const rows = await db.usageOutbox.findMany();
    expect(rows.filter((row) => row.workspaceId === free.id)).toEqual([]);
    const sent = outboxMinuteTotals(rows);
    expect(sent).toEqual(expected);
    // Some minutes were sent in more than one run: usage that reached the ledger after its minute's run.
    expect(rows.length).toBeGreaterThan(sent.size);

    // Stripe counts each row once, whatever crashed in between.
    // Later runs: a row left "sent" by the crash is due again a minute on, and a retry's backoff is at
    // most five minutes.
    for (let round = 0; round < 4; round++)
      await sendOutbox(db, stripe, new Date(Date.now() + (2 + 6 * round) * MINUTE));
    const states = await db.usageOutbox.groupBy({ by: ['status'], _count: true });
    expect(states.map((s) => [s.status, s._count])).toEqual([['accepted', rows.length]]);
    const inStripe = new Map<string, bigint>();
    for (const event of local.state.meterEvents) {
      const k = `${event.customer} ${event.eventName}`;
      inStripe.set(k, (inStripe.get(k) ?? 0n) + BigInt(event.value));
    }
    const kilnTotals = new Map<string, bigint>();
    const customerOf = new Map([
      [a.id, a.customer],
      [b.id, b.customer],
    ]);
    for (const [k, v] of expected) {
      const [ws, event] = k.split(' ');
      const total = `${customerOf.get(ws as string)} ${event}`;
      kilnTotals.set(total, (kilnTotals.get(total) ?? 0n) + v);
    }
    expect(inStripe).toEqual(kilnTotals);
    expect(local.state.meterEvents).toHaveLength(rows.length);
    // A hundred-odd simulated minutes, each a few statements: generous for a loaded machine.
  }, 300_000);

  it('reads only the slices with usage left, through its partial index, however large the ledger', async () => {
    const { db } = database;
    const ws = await workspace(true);
    const version = await priceVersionAt(db, new Date(0));
    // 20,000 slices rolled up long ago and a few open ones.
    await db.$executeRaw`
      INSERT INTO "UsageSlice" (id, "workspaceId", "containerId", "periodSeq", kind, "ownerId", "gpuCount",
        "cpuMillicores", "memoryMiB", "priceVersionId", "gpuRateFemto", "cpuRateFemto", "memRateFemto",
        "startAt", "heartbeatAt", "endAt", "endReason", "rolledUntil", "rollupDone")
      SELECT gen_random_uuid()::text, ${ws.id}::uuid, gen_random_uuid(), 2, 'kernel', 'nb', 0, 1000, 1024, ${version.id},
        0, 0, 0, ts, ts + interval '1 minute', ts + interval '1 minute', 'stopped', ts + interval '1 minute',
        g <= 20000
      FROM (SELECT g, timestamptz '2026-01-01' + g * interval '1 minute' AS ts FROM generate_series(1, 20005) g) x`;
    await db.$executeRaw`ANALYZE "UsageSlice"`;
    const plan = (
      await db.$queryRaw<{ 'QUERY PLAN': string }[]>(
        Prisma.sql`EXPLAIN ${rollupStatement(new Date(Date.UTC(2026, 2, 1)))}`,
      )
    )
      .map((row) => row['QUERY PLAN'])
      .join('\n');
    expect(plan).toContain('UsageSlice_startAt_idx');
    expect(plan).not.toMatch(/Seq Scan on "UsageSlice"/);
  });
});
