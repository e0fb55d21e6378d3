import { randomBytes } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '@kiln/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { containerEvents, createEventLog } from '../../test/synthetic-events.ts';
import { periodOf } from '../ledger/period.ts';
import { createMeter } from '../meter/meter.ts';
import { PLANS } from '../plans.ts';
import { type BillingAlertView, listAlerts, setBudget } from './alerts.ts';
import { grantCredits } from './credits.ts';
import { checkSpend, enforceCaps } from './enforce.ts';
import { changePlan } from './plan-change.ts';
import { spendSummary } from './spend.ts';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase({ max: 4 });
});
afterAll(() => database?.drop());

const now = new Date(Date.UTC(2026, 11, 20, 12));
const hour = 3600_000;

async function workspace(plan: 'STARTER' | 'TEAM' = 'STARTER'): Promise<string> {
  const suffix = randomBytes(4).toString('hex');
  const row = await database.db.workspace.create({
    data: { name: `ws ${suffix}`, slug: `ws-${suffix}`, plan },
  });
  return row.id;
}

/** A running container (as the scheduler would hold it) that has run `hours` by `now`, on one H100. */
async function runningH100(workspaceId: string, hours: number): Promise<string> {
  const started = new Date(now.getTime() - hours * hour);
  const container = await database.db.container.create({
    data: {
      workspaceId,
      kind: 'kernel',
      ownerId: 'nb-1',
      cpu: 1,
      memoryMiB: 1024,
      gpuRequest: ['H100'],
      state: 'running',
      requestedAt: started,
      stateChangedAt: started,
      runningAt: started,
      eventSeq: 2,
    },
  });
  const log = createEventLog();
  log.events.push(
    ...containerEvents(
      workspaceId,
      [
        { to: 'starting', at: new Date(started.getTime() - 1000) },
        { to: 'running', at: started },
      ],
      { cpu: 1, memoryMiB: 1024, gpu: { type: 'H100', count: 1 } },
      { containerId: container.id },
    ),
  );
  await createMeter({ db: database.db, events: log.source, cursorName: `test-${container.id}` }).sync();
  return container.id;
}

describe('credits, caps and plans', () => {
  it('Starter without a card stops at its $30 of credits: new kernels refused, running ones hibernated with why', async () => {
    const ws = await workspace();
    // An H100 costs about $3.95/h plus CPU and memory: 7 h is within $30, 8 h is past it.
    const id = await runningH100(ws, 7);
    expect(await checkSpend(database.db, ws, { now })).toEqual({ allowed: true });
    const later = new Date(now.getTime() + hour);
    const summary = await spendSummary(database.db, ws, { now: later });
    expect(summary.creditMicros).toBe(30_000_000n);
    expect(summary.balanceMicros < 0n).toBe(true);
    const check = await checkSpend(database.db, ws, { now: later });
    expect(check).toMatchObject({ allowed: false, code: 'CREDITS_EXHAUSTED' });
    expect(check.allowed ? '' : check.message).toMatch(
      /used its \$30\.00 of Starter credits.*upgrade to Team/,
    );

    const hibernated: [string, string][] = [];
    const emails: BillingAlertView[] = [];
    const results = await enforceCaps({
      db: database.db,
      now: later,
      hibernate: async (containerId, reason) => void hibernated.push([containerId, reason]),
      notify: async (alert) => void emails.push(alert),
    });
    expect(results.find((r) => r.workspaceId === ws)?.hibernated).toEqual([id]);
    expect(hibernated[0]?.[1]).toMatch(/variables kept/);
    expect(emails.map((alert) => alert.kind)).toEqual(['credits_exhausted']);
    // A second pass (another process) alerts nobody again.
    await enforceCaps({
      db: database.db,
      now: later,
      hibernate: async () => undefined,
      notify: async (a) => void emails.push(a),
    });
    expect(emails).toHaveLength(1);
    expect((await listAlerts(database.db, ws)).map((alert) => alert.kind)).toEqual(['credits_exhausted']);
  });

  it('an operator grant or a payment method lets Starter continue', async () => {
    const ws = await workspace();
    await runningH100(ws, 9);
    expect((await checkSpend(database.db, ws, { now })).allowed).toBe(false);
    const grant = {
      id: `support:${ws}:1`,
      workspaceId: ws,
      amountMicros: 20_000_000n,
      note: 'support',
      period: periodOf(now),
    };
    expect(await grantCredits(database.db, grant)).toBe(true);
    expect(await grantCredits(database.db, grant)).toBe(false);
    expect((await spendSummary(database.db, ws, { now })).creditMicros).toBe(50_000_000n);
    expect((await checkSpend(database.db, ws, { now })).allowed).toBe(true);
    const ws2 = await workspace();
    await runningH100(ws2, 9);
    await database.db.billingAccount.create({
      data: { workspaceId: ws2, hasPaymentMethod: true, updatedAt: now },
    });
    expect((await checkSpend(database.db, ws2, { now })).allowed).toBe(true);
  });

  it('a budget alerts at 80 % and 100 % once each and, as a hard cap, pauses work', async () => {
    const ws = await workspace('TEAM');
    await runningH100(ws, 1); // about $4.00
    await setBudget(database.db, ws, { amountMicros: 4_500_000n, hardCap: true });
    const raised: string[] = [];
    await enforceCaps({
      db: database.db,
      now,
      hibernate: async () => undefined,
      notify: async (a) => void raised.push(a.kind),
    });
    expect(raised).toEqual(['budget_80']);
    const later = new Date(now.getTime() + 10 * 60_000);
    const paused: string[] = [];
    await enforceCaps({
      db: database.db,
      now: later,
      hibernate: async (id) => void paused.push(id),
      notify: async (a) => void raised.push(a.kind),
    });
    expect(raised).toEqual(['budget_80', 'budget_100']);
    expect(paused).toHaveLength(1);
    const check = await checkSpend(database.db, ws, { now: later });
    expect(check.allowed ? '' : check.message).toMatch(/monthly budget of \$4\.50, which is a hard cap/);
    // Without the hard cap the same spend only alerts.
    await setBudget(database.db, ws, { amountMicros: 4_500_000n, hardCap: false });
    expect((await checkSpend(database.db, ws, { now: later })).allowed).toBe(true);
  });

  it('plan changes apply at once; a downgrade that breaks a limit says what must stop first', async () => {
    const ws = await workspace('STARTER');
    await changePlan(
      database.db,
      ws,
      'TEAM',
      { containers: 0, gpus: 0, webEndpoints: 0, crons: 0, seats: 1 },
      { now },
    );
    const team = await spendSummary(database.db, ws, { now });
    expect(team.plan).toBe('TEAM');
    expect(team.creditMicros).toBe(100_000_000n);
    const used = { containers: 120, gpus: 12, webEndpoints: 9, crons: 2, seats: 5 };
    await expect(changePlan(database.db, ws, 'STARTER', used, { now })).rejects.toThrow(
      /Stop 20 of 120 running containers \(Starter allows 100\)\..*Release 2 of 12 GPUs.*Delete 1 of 9 web endpoints.*Remove 2 of 5 members/,
    );
    expect((await spendSummary(database.db, ws, { now })).plan).toBe('TEAM');
    expect(PLANS.STARTER.maxContainers).toBe(100);
  });
});
