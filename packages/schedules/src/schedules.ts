import { recordAudit } from '@kiln/accounts';
import { DomainError } from '@kiln/core';
import type { Db, NotebookScheduleModel, PlanTier } from '@kiln/db';
import { nextTick, type Timing, validateTiming } from './timing.ts';

/** Most schedules a workspace of each plan may hold. */
export const DEFAULT_SCHEDULE_LIMITS: Record<PlanTier, number> = { STARTER: 5, TEAM: 50, ENTERPRISE: 1000 };
export const MAX_RETRIES = 10;

export interface ScheduleView {
  id: string;
  notebookId: string;
  timing: Timing;
  paused: boolean;
  maxRetries: number;
  retryDelaySeconds: number;
  nextRunAt: Date | null;
  createdAt: Date;
}

export interface ScheduleRunView {
  id: string;
  tick: Date;
  status: string;
  attempt: number;
  startedAt: Date | null;
  finishedAt: Date | null;
  durationMs: number | null;
  error: string | null;
  log: string | null;
  versionId: string | null;
  nextAttemptAt: Date | null;
}

export interface ScheduleActor {
  userId: string | null;
  ip?: string | null;
}

export interface ScheduleInput {
  timing: Timing;
  maxRetries?: number;
  retryDelaySeconds?: number;
}

export interface SchedulesOptions {
  db: Db;
  /** Overrides of DEFAULT_SCHEDULE_LIMITS. */
  limits?: Partial<Record<PlanTier, number>>;
  clock?: () => Date;
}

/** The timing a schedule row stores. */
export function timingOf(row: Pick<NotebookScheduleModel, 'cron' | 'timeZone' | 'periodSeconds'>): Timing {
  return row.cron
    ? { kind: 'cron', expression: row.cron, timeZone: row.timeZone }
    : { kind: 'period', seconds: row.periodSeconds ?? 3600 };
}

export function scheduleView(row: NotebookScheduleModel): ScheduleView {
  return {
    id: row.id,
    notebookId: row.notebookId,
    timing: timingOf(row),
    paused: row.paused,
    maxRetries: row.maxRetries,
    retryDelaySeconds: row.retryDelaySeconds,
    nextRunAt: row.nextRunAt,
    createdAt: row.createdAt,
  };
}

function retries(input: ScheduleInput) {
  const maxRetries = input.maxRetries ?? 2;
  const retryDelaySeconds = input.retryDelaySeconds ?? 60;
  if (!Number.isInteger(maxRetries) || maxRetries < 0 || maxRetries > MAX_RETRIES) {
    throw new DomainError('VALIDATION_FAILED', `Retries are a whole number from 0 to ${MAX_RETRIES}`, {
      field: 'maxRetries',
    });
  }
  if (!Number.isInteger(retryDelaySeconds) || retryDelaySeconds < 1 || retryDelaySeconds > 86_400) {
    throw new DomainError('VALIDATION_FAILED', 'The first retry waits 1 second to 1 day', {
      field: 'retryDelaySeconds',
    });
  }
  return { maxRetries, retryDelaySeconds };
}

function timingColumns(timing: Timing) {
  return timing.kind === 'cron'
    ? { cron: timing.expression.trim(), timeZone: timing.timeZone, periodSeconds: null }
    : { cron: null, timeZone: 'UTC', periodSeconds: timing.seconds };
}

const notFound = () => new DomainError('NOT_FOUND', 'Schedule not found');

/** Schedules of notebooks: their settings, pause and resume, and their run history. */
export function createSchedules(options: SchedulesOptions) {
  const { db } = options;
  const clock = options.clock ?? (() => new Date());
  const limits = { ...DEFAULT_SCHEDULE_LIMITS, ...options.limits };

  async function find(workspaceId: string, scheduleId: string) {
    const row = await db.notebookSchedule.findFirst({ where: { id: scheduleId, workspaceId } });
    if (!row) throw notFound();
    return row;
  }

  async function audit(
    action:
      | 'schedule.created'
      | 'schedule.updated'
      | 'schedule.paused'
      | 'schedule.resumed'
      | 'schedule.deleted',
    row: NotebookScheduleModel,
    actor: ScheduleActor,
  ) {
    await recordAudit(db, {
      action,
      workspaceId: row.workspaceId,
      actorId: actor.userId,
      target: row.notebookId,
      metadata: {
        scheduleId: row.id,
        cron: row.cron,
        timeZone: row.timeZone,
        periodSeconds: row.periodSeconds,
      },
      ip: actor.ip,
    });
  }

  return {
    async list(workspaceId: string, notebookId?: string): Promise<ScheduleView[]> {
      const rows = await db.notebookSchedule.findMany({
        where: { workspaceId, ...(notebookId ? { notebookId } : {}) },
        orderBy: { createdAt: 'asc' },
      });
      return rows.map(scheduleView);
    },

    /** Adds a schedule to a notebook of the workspace, within the plan's limit. */
    async create(
      workspaceId: string,
      actor: ScheduleActor,
      notebookId: string,
      input: ScheduleInput,
    ): Promise<ScheduleView> {
      const timing = validateTiming(input.timing);
      const settings = retries(input);
      const workspace = await db.workspace.findUnique({ where: { id: workspaceId }, select: { plan: true } });
      const notebook = await db.notebook.findFirst({
        where: { id: notebookId, workspaceId },
        select: { id: true },
      });
      if (!workspace || !notebook) throw new DomainError('NOT_FOUND', 'Notebook not found');
      const now = clock();
      const row = await db.$transaction(async (tx) => {
        // Serialises creations per workspace, so two at once cannot both pass the limit.
        await tx.$queryRaw`SELECT id FROM "Workspace" WHERE id = ${workspaceId}::uuid FOR UPDATE`;
        const count = await tx.notebookSchedule.count({ where: { workspaceId } });
        const limit = limits[workspace.plan];
        if (count >= limit) {
          throw new DomainError(
            'QUOTA_EXCEEDED',
            `Your plan allows ${limit} schedules in a workspace; delete one or upgrade the plan`,
          );
        }
        return tx.notebookSchedule.create({
          data: {
            workspaceId,
            notebookId,
            ...timingColumns(timing),
            ...settings,
            createdAt: now,
            nextRunAt: nextTick(timing, now, now),
            createdById: actor.userId,
          },
        });
      });
      await audit('schedule.created', row, actor);
      return scheduleView(row);
    },

    /** Changes timing or retries; the next tick is computed again from now. */
    async update(
      workspaceId: string,
      actor: ScheduleActor,
      scheduleId: string,
      input: ScheduleInput,
    ): Promise<ScheduleView> {
      const timing = validateTiming(input.timing);
      const settings = retries(input);
      const row = await find(workspaceId, scheduleId);
      const updated = await db.notebookSchedule.update({
        where: { id: row.id },
        data: { ...timingColumns(timing), ...settings, nextRunAt: nextTick(timing, clock(), row.createdAt) },
      });
      await audit('schedule.updated', updated, actor);
      return scheduleView(updated);
    },

    /** Pauses or resumes; ticks while paused are not runs, nor reported as missed. */
    async setPaused(
      workspaceId: string,
      actor: ScheduleActor,
      scheduleId: string,
      paused: boolean,
    ): Promise<ScheduleView> {
      const row = await find(workspaceId, scheduleId);
      const updated = await db.notebookSchedule.update({
        where: { id: row.id },
        data: { paused, nextRunAt: paused ? row.nextRunAt : nextTick(timingOf(row), clock(), row.createdAt) },
      });
      await audit(paused ? 'schedule.paused' : 'schedule.resumed', updated, actor);
      return scheduleView(updated);
    },

    async remove(workspaceId: string, actor: ScheduleActor, scheduleId: string): Promise<void> {
      const row = await find(workspaceId, scheduleId);
      await db.notebookSchedule.delete({ where: { id: row.id } });
      await audit('schedule.deleted', row, actor);
    },

    /** The schedule's runs, newest tick first (missed ticks included). */
    async runs(workspaceId: string, scheduleId: string, limit = 50): Promise<ScheduleRunView[]> {
      await find(workspaceId, scheduleId);
      return db.scheduleRun.findMany({
        where: { scheduleId },
        orderBy: { tick: 'desc' },
        take: Math.min(Math.max(limit, 1), 200),
        select: {
          id: true,
          tick: true,
          status: true,
          attempt: true,
          startedAt: true,
          finishedAt: true,
          durationMs: true,
          error: true,
          log: true,
          versionId: true,
          nextAttemptAt: true,
        },
      });
    },
  };
}

export type Schedules = ReturnType<typeof createSchedules>;
