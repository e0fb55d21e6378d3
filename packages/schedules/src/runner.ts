import { randomUUID } from 'node:crypto';
import type { Db, NotebookScheduleModel } from '@kiln/db';
import { timingOf } from './schedules.ts';
import { type ScheduleTarget, targetOf } from './target.ts';
import { nextTick, ticksBetween } from './timing.ts';

/** One attempt of a scheduled run, as the runner hands it to `execute`. */
export interface ScheduledRun {
  runId: string;
  scheduleId: string;
  workspaceId: string;
  target: ScheduleTarget;
  tick: Date;
  attempt: number;
  /** Who created the schedule (the run acts for them in the audit log). */
  createdById: string | null;
}

/** How an attempt ended; `log` and `error` are stored as the run's record (already masked). */
export interface RunOutcome {
  ok: boolean;
  error?: string;
  log?: string;
  versionId?: string;
  /** An endpoint call's JSON result, its request id in the endpoint's log, and its price. */
  result?: string;
  requestId?: string;
  costNanos?: number;
  /** A failure another attempt cannot fix (the arguments do not fit the function): no retry. */
  final?: boolean;
}

export interface ScheduleRunnerOptions {
  db: Db;
  /** Runs the schedule's target (see `byTarget`); a thrown error is a failed attempt. */
  execute(run: ScheduledRun): Promise<RunOutcome>;
  clock?: () => Date;
  /** This process, in `claimedBy` (default: a random id). */
  instanceId?: string;
  /** How often `start()` looks for due ticks (default 15 s). */
  intervalMs?: number;
  /** A tick found this late (Kiln was down) is still run if it is the newest one; older: missed (default 1 h). */
  catchUpMs?: number;
  /** A running attempt whose process stopped renewing it for this long counts as failed (default 2 min). */
  leaseMs?: number;
  /** Most missed ticks recorded per schedule at once (default 100). */
  maxMissed?: number;
  onError?(error: unknown): void;
}

const MAX_LOG_CHARS = 64 * 1024;
const MAX_ERROR_CHARS = 4000;

/** A run whose target is of one kind. */
export type ScheduledRunOf<K extends ScheduleTarget['kind']> = ScheduledRun & {
  target: Extract<ScheduleTarget, { kind: K }>;
};

/** One `execute` from a run function per target kind. */
export function byTarget(runs: {
  notebook(run: ScheduledRunOf<'notebook'>): Promise<RunOutcome>;
  endpoint(run: ScheduledRunOf<'endpoint'>): Promise<RunOutcome>;
}): (run: ScheduledRun) => Promise<RunOutcome> {
  return (run) =>
    run.target.kind === 'notebook'
      ? runs.notebook(run as ScheduledRunOf<'notebook'>)
      : runs.endpoint(run as ScheduledRunOf<'endpoint'>);
}

/**
 * Starts the runs of due ticks (notebooks and endpoint calls alike). Any number of processes may run one against the same
 * database: a tick is taken by moving the schedule's `nextRunAt` past it with a compare-and-set,
 * and its run row is unique per (schedule, tick), so a tick never starts twice.
 */
export function createScheduleRunner(options: ScheduleRunnerOptions) {
  const { db } = options;
  const clock = options.clock ?? (() => new Date());
  const instanceId = options.instanceId ?? randomUUID();
  const catchUpMs = options.catchUpMs ?? 3_600_000;
  const leaseMs = options.leaseMs ?? 120_000;
  const maxMissed = options.maxMissed ?? 100;
  const onError = options.onError ?? ((error) => console.error('[schedules]', error));
  const inFlight = new Set<Promise<void>>();
  let timer: NodeJS.Timeout | null = null;
  let ticking: Promise<void> | null = null;

  async function takeTicks(schedule: NotebookScheduleModel, now: Date): Promise<ScheduledRun[]> {
    const due = schedule.nextRunAt;
    if (!due) return [];
    const timing = timingOf(schedule);
    const ticks = ticksBetween(timing, new Date(due.getTime() - 1), now, schedule.createdAt, maxMissed + 1);
    const following = nextTick(timing, now, schedule.createdAt);
    // Compare-and-set: only the process that moves nextRunAt from the value it read owns these ticks.
    const taken = await db.notebookSchedule.updateMany({
      where: { id: schedule.id, nextRunAt: due, paused: false },
      data: { nextRunAt: following },
    });
    if (taken.count === 0 || ticks.length === 0) return [];
    const newest = ticks.at(-1) as Date;
    const runNewest = now.getTime() - newest.getTime() <= catchUpMs;
    const missed = runNewest ? ticks.slice(0, -1) : ticks;
    if (missed.length > 0) {
      await db.scheduleRun.createMany({
        data: missed.map((tick) => ({
          scheduleId: schedule.id,
          tick,
          status: 'missed',
          finishedAt: now,
          error: 'Kiln was not running at this time, so this tick did not run',
        })),
        skipDuplicates: true,
      });
    }
    if (!runNewest) return [];
    // Runs of one schedule never overlap: a tick that comes while the last run is still going is
    // recorded as skipped, not queued behind it (on the same kernel, or the same endpoint's queue).
    const busy = await db.scheduleRun.count({ where: { scheduleId: schedule.id, status: 'running' } });
    if (busy > 0) {
      await db.scheduleRun.createMany({
        data: [
          {
            scheduleId: schedule.id,
            tick: newest,
            status: 'skipped',
            finishedAt: now,
            error: 'The previous run was still going at this tick',
          },
        ],
        skipDuplicates: true,
      });
      return [];
    }
    // The unique (schedule, tick) row is the second guard: an edited schedule that lands on a tick
    // already run does not run it again.
    const inserted = await db.$queryRaw<{ id: string }[]>`
      INSERT INTO "ScheduleRun" (id, "scheduleId", tick, status, attempt, "claimedBy", "leaseUntil", "startedAt")
      VALUES (${randomUUID()}::uuid, ${schedule.id}::uuid, ${newest}, 'running', 1, ${instanceId},
              ${new Date(now.getTime() + leaseMs)}, ${now})
      ON CONFLICT ("scheduleId", tick) DO NOTHING
      RETURNING id`;
    const runId = inserted[0]?.id;
    if (!runId) return [];
    return [
      {
        runId,
        scheduleId: schedule.id,
        workspaceId: schedule.workspaceId,
        target: targetOf(schedule),
        tick: newest,
        attempt: 1,
        createdById: schedule.createdById,
      },
    ];
  }

  /** Retries that are due, and attempts whose process died (their lease ran out), claimed by this one. */
  async function takeRetries(now: Date): Promise<ScheduledRun[]> {
    const expired = await db.scheduleRun.findMany({
      where: { status: 'running', leaseUntil: { lt: now } },
      take: 50,
    });
    for (const run of expired) {
      const { count } = await db.scheduleRun.updateMany({
        where: { id: run.id, status: 'running', leaseUntil: run.leaseUntil },
        data: { status: 'retrying', nextAttemptAt: now, error: 'Kiln stopped during this attempt' },
      });
      if (count === 1) {
        await settle(run.id, run.startedAt ?? now, { ok: false, error: 'Kiln stopped during this attempt' });
      }
    }
    const due = await db.scheduleRun.findMany({
      where: { status: 'retrying', nextAttemptAt: { lte: now } },
      include: { schedule: true },
      take: 50,
    });
    const claimed: ScheduledRun[] = [];
    for (const run of due) {
      const { count } = await db.scheduleRun.updateMany({
        where: { id: run.id, status: 'retrying', attempt: run.attempt },
        data: {
          status: 'running',
          attempt: run.attempt + 1,
          claimedBy: instanceId,
          leaseUntil: new Date(now.getTime() + leaseMs),
          startedAt: now,
          nextAttemptAt: null,
        },
      });
      if (count === 1) {
        claimed.push({
          runId: run.id,
          scheduleId: run.scheduleId,
          workspaceId: run.schedule.workspaceId,
          target: targetOf(run.schedule),
          tick: run.tick,
          attempt: run.attempt + 1,
          createdById: run.schedule.createdById,
        });
      }
    }
    return claimed;
  }

  /** Records how an attempt ended: succeeded, failed for good, or retrying after a doubling delay. */
  async function settle(
    runId: string,
    startedAt: Date,
    outcome: RunOutcome,
    elapsedMs?: number,
  ): Promise<void> {
    const run = await db.scheduleRun.findUnique({ where: { id: runId }, include: { schedule: true } });
    if (!run) return;
    const now = clock();
    const retry = !outcome.ok && !outcome.final && run.attempt <= run.schedule.maxRetries;
    const delayMs = run.schedule.retryDelaySeconds * 1000 * 2 ** Math.max(run.attempt - 1, 0);
    // updateMany: a schedule deleted while its run was going takes the run row with it.
    await db.scheduleRun.updateMany({
      where: { id: runId },
      data: {
        status: outcome.ok ? 'succeeded' : retry ? 'retrying' : 'failed',
        finishedAt: now,
        durationMs: Math.round(elapsedMs ?? Math.max(0, now.getTime() - startedAt.getTime())),
        error: outcome.ok ? null : (outcome.error ?? 'The run failed').slice(0, MAX_ERROR_CHARS),
        log: outcome.log?.slice(-MAX_LOG_CHARS) ?? null,
        versionId: outcome.versionId ?? null,
        result: outcome.result?.slice(0, MAX_LOG_CHARS) ?? null,
        requestId: outcome.requestId ?? null,
        costNanos: outcome.costNanos === undefined ? null : BigInt(Math.round(outcome.costNanos)),
        nextAttemptAt: retry ? new Date(now.getTime() + delayMs) : null,
        leaseUntil: null,
      },
    });
  }

  function launch(run: ScheduledRun): void {
    const startedAt = clock();
    // Duration from a monotonic clock: wall-clock jumps (NTP, a test's clock) do not distort it.
    const began = performance.now();
    const renew = setInterval(() => {
      void db.scheduleRun
        .updateMany({
          where: { id: run.runId, status: 'running', claimedBy: instanceId },
          data: { leaseUntil: new Date(clock().getTime() + leaseMs) },
        })
        .catch(onError);
    }, leaseMs / 3);
    const done = options
      .execute(run)
      .catch(
        (error: unknown): RunOutcome => ({
          ok: false,
          error: error instanceof Error ? error.message : String(error),
        }),
      )
      .then((outcome) => settle(run.runId, startedAt, outcome, performance.now() - began))
      .catch(onError)
      .finally(() => {
        clearInterval(renew);
        inFlight.delete(done);
      });
    inFlight.add(done);
  }

  async function tickOnce(): Promise<number> {
    const now = clock();
    const due = await db.notebookSchedule.findMany({
      where: { paused: false, nextRunAt: { lte: now } },
      orderBy: { nextRunAt: 'asc' },
      take: 100,
    });
    const runs: ScheduledRun[] = [];
    for (const schedule of due) runs.push(...(await takeTicks(schedule, now)));
    runs.push(...(await takeRetries(now)));
    for (const run of runs) launch(run);
    return runs.length;
  }

  return {
    instanceId,
    /** Takes due ticks and retries and starts their runs; resolves with how many it started. */
    tick(): Promise<number> {
      return tickOnce();
    },
    /** Resolves when every run this process started has been recorded. */
    async idle(): Promise<void> {
      while (inFlight.size > 0) await Promise.all([...inFlight]);
    },
    /** Ticks every `intervalMs` until `stop()`. */
    start(): void {
      if (timer) return;
      const loop = () => {
        ticking = tickOnce()
          .then(() => undefined)
          .catch(onError)
          .finally(() => {
            ticking = null;
            if (timer) timer = setTimeout(loop, options.intervalMs ?? 15_000);
          });
      };
      timer = setTimeout(loop, 0);
    },
    /** Stops ticking and waits for the runs in flight. */
    async stop(): Promise<void> {
      if (timer) clearTimeout(timer);
      timer = null;
      await ticking;
      await this.idle();
    },
  };
}

export type ScheduleRunner = ReturnType<typeof createScheduleRunner>;
