import { DomainError } from '@kiln/core';
import type { ScheduleView } from '@kiln/schedules';
import { z } from 'zod';
import { id } from '../inputs.ts';
import { requireSchedules } from '../services.ts';
import { notebookProcedure, router, workspaceProcedure } from '../trpc.ts';

// Shapes only; @kiln/schedules checks the expression, the zone and the ranges and says what is wrong.
const timing = z.discriminatedUnion(
  'kind',
  [
    z.object({
      kind: z.literal('cron'),
      expression: z
        .string('Cron expression must be text')
        .max(200, 'A cron expression is at most 200 characters'),
      timeZone: z.string('Time zone must be text').max(64, 'A time zone is at most 64 characters'),
    }),
    z.object({
      kind: z.literal('period'),
      seconds: z.number('Period must be a number of seconds').int('Period must be whole seconds'),
    }),
  ],
  'Timing is a cron expression with a time zone, or a period',
);

// Any JSON; @kiln/schedules says when it is not an object of keyword arguments.
const args = z.unknown().optional();

const settings = z.object({
  timing,
  maxRetries: z.number('Retries must be a number').int('Retries must be a whole number').optional(),
  retryDelaySeconds: z
    .number('Retry delay must be a number')
    .int('Retry delay must be whole seconds')
    .optional(),
  args,
});

function view(schedule: ScheduleView) {
  return schedule;
}

export const scheduleRouter = router({
  /** The workspace's schedules, or one notebook's, or one endpoint's. */
  list: workspaceProcedure('workspace.read')
    .input(z.object({ notebookId: id('Notebook').optional(), endpointId: id('Endpoint').optional() }))
    .query(async ({ ctx, input }) =>
      (
        await requireSchedules(ctx.options).list(input.workspaceId, {
          notebookId: input.notebookId,
          endpointId: input.endpointId,
        })
      ).map(view),
    ),

  /** Runs the notebook ("run all", headless) on a cron expression or every period; editors only. */
  create: notebookProcedure('notebook.run')
    .input(settings)
    .mutation(async ({ ctx, input }) => {
      // A headless "run all" of a function file would only rerun its module and its last call.
      if (ctx.notebook.kind === 'function')
        throw new DomainError(
          'BAD_REQUEST',
          'A function file cannot be scheduled: deploy its function as an endpoint and schedule the endpoint from its page',
        );
      return view(
        await requireSchedules(ctx.options).create(
          ctx.member.workspaceId,
          { userId: ctx.user.id, ip: ctx.ip },
          ctx.notebook.id,
          input,
        ),
      );
    }),

  /**
   * Calls an endpoint (whichever version is live at each tick) with fixed JSON keyword arguments on
   * a cron expression or every period, through the same replicas as an HTTP call; editors only.
   */
  createForEndpoint: workspaceProcedure('notebook.run')
    .input(settings.extend({ endpointId: id('Endpoint') }))
    .mutation(async ({ ctx, input }) =>
      view(
        await requireSchedules(ctx.options).createForEndpoint(
          input.workspaceId,
          { userId: ctx.user.id, ip: ctx.ip },
          input.endpointId,
          input,
        ),
      ),
    ),

  update: workspaceProcedure('notebook.run')
    .input(settings.extend({ scheduleId: id('Schedule') }))
    .mutation(async ({ ctx, input }) =>
      view(
        await requireSchedules(ctx.options).update(
          input.workspaceId,
          { userId: ctx.user.id, ip: ctx.ip },
          input.scheduleId,
          input,
        ),
      ),
    ),

  /** Pauses (no runs, none reported missed) or resumes from the next tick after now. */
  setPaused: workspaceProcedure('notebook.run')
    .input(z.object({ scheduleId: id('Schedule'), paused: z.boolean('Paused must be true or false') }))
    .mutation(async ({ ctx, input }) =>
      view(
        await requireSchedules(ctx.options).setPaused(
          input.workspaceId,
          { userId: ctx.user.id, ip: ctx.ip },
          input.scheduleId,
          input.paused,
        ),
      ),
    ),

  delete: workspaceProcedure('notebook.run')
    .input(z.object({ scheduleId: id('Schedule') }))
    .mutation(async ({ ctx, input }) => {
      await requireSchedules(ctx.options).remove(
        input.workspaceId,
        { userId: ctx.user.id, ip: ctx.ip },
        input.scheduleId,
      );
      return { ok: true as const };
    }),

  /**
   * The schedule's run history, newest first: status, duration, cost, error, and a notebook run's
   * masked log and saved version or an endpoint run's result and request id.
   */
  runs: workspaceProcedure('workspace.read')
    .input(z.object({ scheduleId: id('Schedule') }))
    .query(({ ctx, input }) => requireSchedules(ctx.options).runs(input.workspaceId, input.scheduleId)),
});
