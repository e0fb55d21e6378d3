import { randomUUID } from 'node:crypto';
import { createDb, type Db } from '@kiln/db';
import { createTestDatabase, type TestDatabase } from '@kiln/db/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createScheduleRunner, type RunOutcome, type ScheduledRun } from './runner.ts';
import { createSchedules } from './schedules.ts';

// Real Postgres; the notebook run itself is the injected `execute`, recorded here, because these
// tests are about which ticks start and how often, not about kernels.

let t: TestDatabase;
let second: Db;
beforeAll(async () => {
  t = await createTestDatabase({ max: 6 });
  // A second pool, as a second web process has.
  second = createDb(t.url, { max: 6 });
});
// A runner takes every due schedule in the database; each test starts with none left by another.
beforeEach(async () => {
  await t.db.notebookSchedule.deleteMany();
});
afterAll(async () => {
  await second?.$disconnect();
  await t?.drop();
});

const T0 = new Date('2026-03-01T00:00:00Z');

async function notebook() {
  const workspace = await t.db.workspace.create({
    data: { name: 'Team', slug: `team-${randomUUID().slice(0, 8)}` },
  });
  const row = await t.db.notebook.create({ data: { workspaceId: workspace.id, name: 'nb' } });
  return { workspaceId: workspace.id, notebookId: row.id };
}

function setup() {
  const clock = { now: T0 };
  const schedules = createSchedules({ db: t.db, clock: () => clock.now });
  const advance = (ms: number) => {
    clock.now = new Date(clock.now.getTime() + ms);
  };
  return { clock, schedules, advance };
}

function recorder(outcome: (run: ScheduledRun) => RunOutcome = () => ({ ok: true, log: 'ok' })) {
  const calls: ScheduledRun[] = [];
  return {
    calls,
    execute: async (run: ScheduledRun) => {
      calls.push(run);
      // Long enough that both processes are mid-tick together.
      await new Promise((resolve) => setTimeout(resolve, 5));
      return outcome(run);
    },
  };
}

// Generous: Postgres round trips are slow on a loaded 2-core machine.
describe('schedule runner', { timeout: 120_000 }, () => {
  it('two runner processes start exactly one run per tick', async () => {
    const { clock, schedules, advance } = setup();
    const ids = [];
    for (let i = 0; i < 3; i++) {
      const { workspaceId, notebookId } = await notebook();
      ids.push(
        (
          await schedules.create(workspaceId, { userId: null }, notebookId, {
            timing: { kind: 'period', seconds: 60 },
          })
        ).id,
      );
    }
    const a = recorder();
    const b = recorder();
    const runnerA = createScheduleRunner({
      db: t.db,
      execute: a.execute,
      clock: () => clock.now,
      instanceId: 'a',
    });
    const runnerB = createScheduleRunner({
      db: second,
      execute: b.execute,
      clock: () => clock.now,
      instanceId: 'b',
    });
    const rounds = 8;
    for (let round = 0; round < rounds; round++) {
      advance(60_000);
      await Promise.all([runnerA.tick(), runnerB.tick(), runnerA.tick(), runnerB.tick()]);
      // Each round's runs end before the next tick (a tick during a run would be skipped).
      await Promise.all([runnerA.idle(), runnerB.idle()]);
    }
    await Promise.all([runnerA.idle(), runnerB.idle()]);
    const all = [...a.calls, ...b.calls];
    expect(all).toHaveLength(rounds * ids.length);
    const keys = all.map((run) => `${run.scheduleId}@${run.tick.toISOString()}`);
    expect(new Set(keys).size).toBe(keys.length);
    const runs = await t.db.scheduleRun.findMany({ where: { scheduleId: { in: ids } } });
    expect(runs).toHaveLength(rounds * ids.length);
    expect(runs.every((run) => run.status === 'succeeded' && run.attempt === 1)).toBe(true);
  });

  it('reports ticks missed while Kiln was down and runs only the newest', async () => {
    const { clock, schedules, advance } = setup();
    const { workspaceId, notebookId } = await notebook();
    const schedule = await schedules.create(workspaceId, { userId: null }, notebookId, {
      timing: { kind: 'period', seconds: 60 },
    });
    const rec = recorder();
    const runner = createScheduleRunner({ db: t.db, execute: rec.execute, clock: () => clock.now });
    advance(10 * 60_000 + 5_000);
    await runner.tick();
    await runner.idle();
    const runs = await schedules.runs(workspaceId, schedule.id);
    expect(runs.map((run) => run.status)).toEqual(['succeeded', ...Array(9).fill('missed')]);
    expect(rec.calls.map((run) => run.tick.toISOString())).toEqual(['2026-03-01T00:10:00.000Z']);
    expect(runs.at(-1)?.error).toMatch(/not running/);
  });

  it("shows each finished run's cost, asked for the notebook and each run's start and end", async () => {
    const clock = { now: T0 };
    const asked: { notebookId: string; windows: { from: Date; to: Date }[] }[] = [];
    const schedules = createSchedules({
      db: t.db,
      clock: () => clock.now,
      runCosts: async (_workspaceId, notebookId, windows) => {
        asked.push({ notebookId, windows });
        return windows.map((w) => (w.to.getTime() - w.from.getTime()) * 10 + 7);
      },
    });
    const { workspaceId, notebookId } = await notebook();
    const schedule = await schedules.create(workspaceId, { userId: null }, notebookId, {
      timing: { kind: 'period', seconds: 60 },
    });
    const rec = recorder();
    const runner = createScheduleRunner({ db: t.db, execute: rec.execute, clock: () => clock.now });
    clock.now = new Date(T0.getTime() + 65_000);
    await runner.tick();
    await runner.idle();
    const [run] = await schedules.runs(workspaceId, schedule.id);
    expect(run?.status).toBe('succeeded');
    const window = asked[0]?.windows[0];
    expect(asked[0]?.notebookId).toBe(notebookId);
    expect(window?.from).toEqual(run?.startedAt);
    expect(window?.to).toEqual(run?.finishedAt);
    expect(run?.costMicros).toBe(
      ((run?.finishedAt?.getTime() ?? 0) - (run?.startedAt?.getTime() ?? 0)) * 10 + 7,
    );
  });

  it('retries a failed run with doubling delays, then records it failed', async () => {
    const { clock, schedules, advance } = setup();
    const { workspaceId, notebookId } = await notebook();
    const schedule = await schedules.create(workspaceId, { userId: null }, notebookId, {
      timing: { kind: 'cron', expression: '0 * * * *', timeZone: 'UTC' },
      maxRetries: 2,
      retryDelaySeconds: 10,
    });
    const rec = recorder(() => ({ ok: false, error: 'ZeroDivisionError: division by zero', log: 'partial' }));
    const runner = createScheduleRunner({ db: t.db, execute: rec.execute, clock: () => clock.now });
    const step = async (ms: number) => {
      advance(ms);
      await runner.tick();
      await runner.idle();
      return (await schedules.runs(workspaceId, schedule.id))[0];
    };
    expect(await step(3_600_000)).toMatchObject({ status: 'retrying', attempt: 1 });
    expect((await step(9_000))?.attempt).toBe(1);
    expect(await step(1_000)).toMatchObject({ status: 'retrying', attempt: 2 });
    // The second retry waits twice as long.
    expect((await step(19_000))?.attempt).toBe(2);
    const last = await step(1_000);
    expect(last).toMatchObject({
      status: 'failed',
      attempt: 3,
      error: 'ZeroDivisionError: division by zero',
      log: 'partial',
    });
    expect(last?.durationMs).toBeGreaterThanOrEqual(0);
    expect(rec.calls).toHaveLength(3);
  });

  it('skips a tick that comes while the previous run is still going', async () => {
    const { clock, schedules, advance } = setup();
    const { workspaceId, notebookId } = await notebook();
    const schedule = await schedules.create(workspaceId, { userId: null }, notebookId, {
      timing: { kind: 'period', seconds: 60 },
    });
    let finish: () => void = () => {};
    const slow = createScheduleRunner({
      db: t.db,
      clock: () => clock.now,
      execute: () =>
        new Promise<RunOutcome>((resolve) => {
          finish = () => resolve({ ok: true });
        }),
    });
    advance(60_000);
    expect(await slow.tick()).toBe(1);
    advance(60_000);
    expect(await slow.tick()).toBe(0);
    finish();
    await slow.idle();
    const runs = await schedules.runs(workspaceId, schedule.id);
    expect(runs.map((run) => run.status)).toEqual(['skipped', 'succeeded']);
  });

  it('retries an attempt whose process died once its lease runs out', async () => {
    const { clock, schedules, advance } = setup();
    const { workspaceId, notebookId } = await notebook();
    const schedule = await schedules.create(workspaceId, { userId: null }, notebookId, {
      timing: { kind: 'period', seconds: 600 },
      retryDelaySeconds: 1,
    });
    // A process took the tick, then died: its row stays `running` and its lease is never renewed.
    advance(600_000);
    await t.db.notebookSchedule.update({
      where: { id: schedule.id },
      data: { nextRunAt: new Date(T0.getTime() + 1_200_000) },
    });
    await t.db.scheduleRun.create({
      data: {
        scheduleId: schedule.id,
        tick: clock.now,
        status: 'running',
        attempt: 1,
        claimedBy: 'dead',
        startedAt: clock.now,
        leaseUntil: new Date(clock.now.getTime() + 60_000),
      },
    });
    const rec = recorder();
    const alive = createScheduleRunner({ db: second, execute: rec.execute, clock: () => clock.now });
    advance(61_000);
    await alive.tick();
    advance(1_000);
    await alive.tick();
    await alive.idle();
    const [run] = await schedules.runs(workspaceId, schedule.id);
    expect(run).toMatchObject({ status: 'succeeded', attempt: 2 });
  });

  it('does not run or report paused ticks, and resumes from now', async () => {
    const { clock, schedules, advance } = setup();
    const { workspaceId, notebookId } = await notebook();
    const schedule = await schedules.create(workspaceId, { userId: null }, notebookId, {
      timing: { kind: 'period', seconds: 60 },
    });
    const rec = recorder();
    const runner = createScheduleRunner({ db: t.db, execute: rec.execute, clock: () => clock.now });
    await schedules.setPaused(workspaceId, { userId: null }, schedule.id, true);
    advance(30 * 60_000);
    await runner.tick();
    expect(await schedules.runs(workspaceId, schedule.id)).toEqual([]);
    const resumed = await schedules.setPaused(workspaceId, { userId: null }, schedule.id, false);
    expect(resumed.nextRunAt?.getTime()).toBeGreaterThan(clock.now.getTime());
    advance(60_000);
    await runner.tick();
    await runner.idle();
    expect((await schedules.runs(workspaceId, schedule.id)).map((run) => run.status)).toEqual(['succeeded']);
  });

  it('holds a Starter workspace to 5 schedules, and keeps workspaces apart', async () => {
    const { schedules } = setup();
    const { workspaceId, notebookId } = await notebook();
    const timing = { kind: 'period', seconds: 3600 } as const;
    await Promise.all(
      Array.from({ length: 5 }, () =>
        schedules.create(workspaceId, { userId: null }, notebookId, { timing }),
      ),
    );
    await expect(
      schedules.create(workspaceId, { userId: null }, notebookId, { timing }),
    ).rejects.toMatchObject({
      code: 'QUOTA_EXCEEDED',
    });
    const other = await notebook();
    const [mine] = await schedules.list(workspaceId);
    await expect(schedules.remove(other.workspaceId, { userId: null }, mine?.id ?? '')).rejects.toMatchObject(
      {
        code: 'NOT_FOUND',
      },
    );
    await expect(
      schedules.create(other.workspaceId, { userId: null }, notebookId, { timing }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
