import { checkSpend } from '@kiln/billing';
import { DomainError } from '@kiln/core';
import type { Db } from '@kiln/db';
import type { KernelResources, RunTarget } from '@kiln/execution';
import { kernelImage } from '@kiln/images/store';
import { parseResourceRequest } from '@kiln/scheduler';
import { z } from 'zod';
import { type NotebookServices, requireExecution } from '../services.ts';
import { notebookProcedure } from '../trpc.ts';
import { kernelSecrets } from './kernel-secrets.ts';
import { kernelVolumes } from './volume.ts';

const MAX_RUN_CELLS = 1000;
const MAX_INPUT_BYTES = 64 * 1024;
const CONTROL_CHARS = /\p{Cc}/u;

const cellId = z
  .string('Cell id must be text')
  .min(1, 'Cell id cannot be empty')
  .max(100, 'Cell id must be at most 100 characters')
  .refine((value) => !CONTROL_CHARS.test(value), 'Cell id cannot contain control characters');

const runInput = z.object({
  cellIds: z
    .array(cellId, 'Cell ids must be a list')
    .max(MAX_RUN_CELLS, `At most ${MAX_RUN_CELLS} cells can be run at once`)
    .optional(),
  mode: z.enum(['cells', 'all', 'above', 'below'], 'Mode must be cells, all, above or below').optional(),
  cellId: cellId.optional(),
});

const MAX_CODE_BYTES = 1024 * 1024;

const assistInput = z.object({
  code: z
    .string('Code must be text')
    .max(MAX_CODE_BYTES, 'Code must be at most 1 MiB')
    .refine((value) => Buffer.byteLength(value, 'utf8') <= MAX_CODE_BYTES, 'Code must be at most 1 MiB'),
  cursorPos: z
    .number('Cursor position must be a number')
    .int('Cursor position must be a whole number')
    .min(0, 'Cursor position cannot be negative')
    .max(MAX_CODE_BYTES, 'Cursor position must be inside the code'),
});

/** Which cells a run input names; `mode` defaults to the listed cells. */
function runTarget(input: z.infer<typeof runInput>): RunTarget {
  const mode = input.mode ?? 'cells';
  if (mode === 'all') return { kind: 'all' };
  if (mode === 'cells') {
    const cellIds = input.cellIds ?? (input.cellId ? [input.cellId] : []);
    if (cellIds.length === 0) {
      throw new DomainError('VALIDATION_FAILED', 'Choose at least one cell to run', { field: 'cellIds' });
    }
    return { kind: 'cells', cellIds };
  }
  if (!input.cellId) {
    throw new DomainError('VALIDATION_FAILED', `Running cells ${mode} a cell needs that cell's id`, {
      field: 'cellId',
    });
  }
  return { kind: mode, cellId: input.cellId };
}

/** A notebook row's resources as the gateway takes them. */
export function kernelResources(row: {
  cpu: number;
  memoryMiB: number;
  gpu: string[];
}): NonNullable<KernelResources> {
  const gpu = row.gpu.length === 0 ? null : row.gpu.length === 1 ? (row.gpu[0] as string) : row.gpu;
  return { cpu: row.cpu, memoryMiB: row.memoryMiB, gpu };
}

const gpuText = z.string('GPU must be text').max(50, 'GPU must be at most 50 characters');

export const resourcesInput = z.object({
  cpu: z
    .number('CPU must be a number')
    .min(0.125, 'CPU must be at least 0.125')
    .max(64, 'CPU must be at most 64'),
  memoryMiB: z
    .number('Memory must be a number')
    .int('Memory must be a whole number of MiB')
    .min(128, 'Memory must be at least 128 MiB')
    .max(262_144, 'Memory must be at most 262144 MiB (256 GiB)'),
  gpu: z
    .union(
      [gpuText, z.array(gpuText).min(1, 'List at least one GPU').max(8, 'List at most 8 GPU choices')],
      'GPU must be a GPU type, a list of them, or null',
    )
    .nullable(),
});

/** Canonical GPU choices ("H100", "A100-80GB:2"), validated by the scheduler's own parser. */
export function normalizeResources(input: z.infer<typeof resourcesInput>): {
  cpu: number;
  memoryMiB: number;
  gpu: string[];
} {
  const parsed = parseResourceRequest(input);
  const gpu = parsed.gpu.map((choice) =>
    choice.count === 1 ? choice.type : `${choice.type}:${choice.count}`,
  );
  return { cpu: parsed.cpu, memoryMiB: parsed.memoryMiB, gpu };
}

/** Who runs what, where: the parts of a notebook procedure's context a run needs. */
export interface RunContext {
  db: Db;
  options: NotebookServices & { db: Db };
  ip: string;
  user: { id: string; name: string };
  member: { workspaceId: string };
  notebook: { id: string; cpu: number; memoryMiB: number; gpu: string[]; imageId: string | null };
}

/**
 * Queues `target` on the notebook's kernel, started with the notebook's resources and secrets if
 * needed; refused when the workspace may not spend (notebooks and function files alike).
 */
export async function queueRun(ctx: RunContext, target: RunTarget) {
  const execution = requireExecution(ctx.options);
  // Kiln's own ledger decides, so Starter stops exactly at its credits and a hard cap holds.
  const spend = await checkSpend(ctx.db, ctx.member.workspaceId);
  if (!spend.allowed) throw new DomainError('SPEND_LIMIT_REACHED', spend.message, { reason: spend.code });
  const secrets = await kernelSecrets(ctx.options, execution, {
    workspaceId: ctx.member.workspaceId,
    notebookId: ctx.notebook.id,
    userId: ctx.user.id,
    ip: ctx.ip,
  });
  return execution.run({
    notebookId: ctx.notebook.id,
    workspaceId: ctx.member.workspaceId,
    target,
    user: { userId: ctx.user.id, name: ctx.user.name },
    resources: kernelResources(ctx.notebook),
    ...(await kernelVolumes(ctx.options, ctx.member.workspaceId, ctx.notebook.id)),
    // Only a run that starts the kernel needs the image (a running kernel keeps the one it has).
    image: execution.state(ctx.notebook.id)?.kernel.kernelId
      ? undefined
      : await kernelImage(ctx.db, ctx.member.workspaceId, ctx.notebook.imageId),
    ...secrets,
  });
}

/** Kernel procedures of the `notebook` router; the execution service does the work. */
export const notebookKernelProcedures = {
  /** Queues cells to run on the notebook's kernel (started with the notebook's resources if needed). */
  run: notebookProcedure('notebook.run')
    .input(runInput)
    .mutation(({ ctx, input }) => queueRun(ctx, runTarget(input))),

  interrupt: notebookProcedure('notebook.run').mutation(async ({ ctx }) => {
    await requireExecution(ctx.options).interrupt(ctx.notebook.id);
    return { ok: true as const };
  }),

  restart: notebookProcedure('notebook.run').mutation(async ({ ctx }) => {
    await requireExecution(ctx.options).restart(ctx.notebook.id);
    return { ok: true as const };
  }),

  shutdownKernel: notebookProcedure('notebook.run').mutation(async ({ ctx }) => {
    await requireExecution(ctx.options).shutdown(ctx.notebook.id);
    return { ok: true as const };
  }),

  /**
   * The kernel's completions at `cursorPos` (a UTF-16 offset, as JavaScript and Monaco count). A
   * mutation for its CSRF check: completion evaluates code in the kernel (jedi, attribute lookups).
   */
  complete: notebookProcedure('notebook.run')
    .input(assistInput)
    .mutation(({ ctx, input }) =>
      requireExecution(ctx.options).complete(
        ctx.notebook.id,
        input.code,
        Math.min(input.cursorPos, input.code.length),
      ),
    ),

  /** The kernel's help for the name at `cursorPos` (UTF-16 offset); detail level 1 adds the source. */
  inspect: notebookProcedure('notebook.run')
    .input(
      assistInput.extend({
        detailLevel: z.union([z.literal(0), z.literal(1)], 'Detail level must be 0 or 1').optional(),
      }),
    )
    .mutation(({ ctx, input }) =>
      requireExecution(ctx.options).inspect(
        ctx.notebook.id,
        input.code,
        Math.min(input.cursorPos, input.code.length),
        input.detailLevel ?? 0,
      ),
    ),

  /** Answers the running cell's `input()` prompt. */
  answerInput: notebookProcedure('notebook.run')
    .input(
      z.object({
        value: z
          .string('The answer must be text')
          .max(MAX_INPUT_BYTES, 'The answer must be at most 64 KiB')
          .refine(
            (value) => Buffer.byteLength(value, 'utf8') <= MAX_INPUT_BYTES,
            'The answer must be at most 64 KiB',
          ),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      await requireExecution(ctx.options).answerInput(ctx.notebook.id, input.value);
      return { ok: true as const };
    }),
};
