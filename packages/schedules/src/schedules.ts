import { recordAudit } from '@kiln/accounts';
import { DomainError } from '@kiln/core';
import type { Db, NotebookScheduleModel, PlanTier, Prisma } from '@kiln/db';
import { type ScheduleTarget, targetOf, validateArgs } from './target.ts';
import { nextTick, type Timing, validateTiming } from './timing.ts';

/** Most schedules a workspace of each plan may hold. */
export const DEFAULT_SCHEDULE_LIMITS: Record<PlanTier, number> = { STARTER: 5, TEAM: 50, ENTERPRISE: 1000 };
export const MAX_RETRIES = 10;
export interface ScheduleView {
  id: string;
  target: ScheduleTarget;
  /** The target's notebook or endpoint id (the one of `target`), for lists and links. */
  notebookId: string | null;
  endpointId: string | null;
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
  /**
   * Micro-dollars the run cost: a notebook's kernel while it ran, or an endpoint call's share of its
   * replica (fractions of a micro-dollar); null when not finished or not priced.
   */
  costMicros: number | null;
  /** An endpoint run's result as JSON text, and its request id in the endpoint's log. */
  result: string | null;
  requestId: string | null;
}

export interface ScheduleActor {
  userId: string | null;
  ip?: string | null;
}

export interface ScheduleInput {
  timing: Timing;
  maxRetries?: number;
  retryDelaySeconds?: number;
  /** An endpoint schedule's keyword arguments (a JSON object); not for notebooks. */
  args?: unknown;
}

export interface SchedulesOptions {
  db: Db;
  /** Overrides of DEFAULT_SCHEDULE_LIMITS. */
  limits?: Partial<Record<PlanTier, number>>;
  clock?: () => Date;
  /**
   * What the notebook's kernels cost in each window (micro-dollars, in order), e.g. from the usage
   * ledger; the run history then shows each finished run's cost.
   */
  runCosts?(workspaceId: string, notebookId: string, windows: { from: Date; to: Date }[]): Promise<number[]>;
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
    target: targetOf(row),
    notebookId: row.notebookId,
    endpointId: row.endpointId,
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

const noArgs = () =>
  new DomainError('VALIDATION_FAILED', 'A notebook schedule takes no arguments', { field: 'args' });

function timingColumns(timing: Timing) {
  return timing.kind === 'cron'
    ? { cron: timing.expression.trim(), timeZone: timing.timeZone, periodSeconds: null }
    : { cron: null, timeZone: 'UTC', periodSeconds: timing.seconds };
}

const notFound = () => new DomainError('NOT_FOUND', 'Schedule not found');

/** Schedules of notebooks and endpoints: their settings, pause and resume, and their run history. */
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
      target: row.notebookId ?? row.endpointId ?? row.id,
      metadata: {
        scheduleId: row.id,
        targetKind: row.endpointId ? 'endpoint' : 'notebook',
        cron: row.cron,
        timeZone: row.timeZone,
        periodSeconds: row.periodSeconds,
      },
      ip: actor.ip,
    });
  }

  async function insert(
    workspaceId: string,
    actor: ScheduleActor,
    target: { notebookId: string } | { endpointId: string; args: Prisma.InputJsonObject },
    input: ScheduleInput,
  ): Promise<ScheduleView> {
    const timing = validateTiming(input.timing);
    const settings = retries(input);
    const workspace = await db.workspace.findUnique({ where: { id: workspaceId }, select: { plan: true } });
    if (!workspace) throw new DomainError('NOT_FOUND', 'Workspace not found');
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
          ...target,
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
  }

  return {
    /** The workspace's schedules, or those of one notebook or one endpoint. */
    async list(
      workspaceId: string,
      of: { notebookId?: string; endpointId?: string } = {},
    ): Promise<ScheduleView[]> {
      const rows = await db.notebookSchedule.findMany({
        where: {
          workspaceId,
          ...(of.notebookId ? { notebookId: of.notebookId } : {}),
          ...(of.endpointId ? { endpointId: of.endpointId } : {}),
        },
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
      if (input.args !== undefined) throw noArgs();
      const notebook = await db.notebook.findFirst({
        where: { id: notebookId, workspaceId },
        select: { id: true },
      });
      if (!notebook) throw new DomainError('NOT_FOUND', 'Notebook not found');
      return insert(workspaceId, actor, { notebookId }, input);
    },

    /** Calls an endpoint of the workspace (whichever version is live at each tick) with fixed kwargs. */
    async createForEndpoint(
      workspaceId: string,
      actor: ScheduleActor,
      endpointId: string,
      input: ScheduleInput,
    ): Promise<ScheduleView> {
      const args = validateArgs(input.args === undefined ? {} : input.args);
      const endpoint = await db.endpoint.findFirst({
        where: { id: endpointId, workspaceId },
        select: { id: true },
      });
      if (!endpoint) throw new DomainError('NOT_FOUND', 'Endpoint not found');
      return insert(workspaceId, actor, { endpointId, args: args as Prisma.InputJsonObject }, input);
    },

    /** Changes timing, retries or an endpoint's arguments; the next tick is computed again from now. */
    async update(
      workspaceId: string,
      actor: ScheduleActor,
      scheduleId: string,
      input: ScheduleInput,
    ): Promise<ScheduleView> {
      const timing = validateTiming(input.timing);
      const settings = retries(input);
      const row = await find(workspaceId, scheduleId);
      if (input.args !== undefined && !row.endpointId) throw noArgs();
      const args =
        input.args === undefined ? {} : { args: validateArgs(input.args) as Prisma.InputJsonObject };
      const updated = await db.notebookSchedule.update({
        where: { id: row.id },
        data: {
          ...timingColumns(timing),
          ...settings,
          ...args,
          nextRunAt: nextTick(timing, clock(), row.createdAt),
        },
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
      const schedule = await find(workspaceId, scheduleId);
      const rows = await db.scheduleRun.findMany({
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
          result: true,
          requestId: true,
          costNanos: true,
        },
      });
      // An endpoint run carries its call's price; a notebook run's is its kernel's cost in the ledger.
      const notebookId = schedule.notebookId;
      const finished = notebookId ? rows.filter((row) => row.startedAt && row.finishedAt) : [];
      const costs =
        notebookId && options.runCosts
          ? await options.runCosts(
              workspaceId,
              notebookId,
              finished.map((row) => ({ from: row.startedAt as Date, to: row.finishedAt as Date })),
            )
          : [];
      const costOf = new Map(finished.map((row, i) => [row.id, costs[i] ?? null]));
      return rows.map(({ costNanos, ...row }) => ({
        ...row,
        costMicros: costNanos !== null ? Number(costNanos) / 1000 : (costOf.get(row.id) ?? null),
      }));
    },
  };
}

export type Schedules = ReturnType<typeof createSchedules>;
