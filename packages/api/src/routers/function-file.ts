import { createNotebook, deleteNotebook } from '@kiln/accounts';
import { DomainError } from '@kiln/core';
import {
  createFunctionFileDoc,
  FUNCTION_CALL_CELL,
  FUNCTION_MODULE_CELL,
  functionCallSource,
  functionFileCells,
  functionModuleSource,
  type JsonObject,
  listModuleFunctions,
  setCellMetadata,
} from '@kiln/notebook';
import * as Y from 'yjs';
import { z } from 'zod';
import { notebookName } from '../inputs.ts';
import { replaceNotebookContent } from '../notebook-content.ts';
import { requireDocuments, requireExecution, withDocument } from '../services.ts';
import { notebookProcedure, router, workspaceProcedure } from '../trpc.ts';
import { queueRun, type RunContext } from './notebook-kernel.ts';

/** Largest module a new file may start with, and largest arguments a run takes (JSON, UTF-8 bytes). */
const MAX_SOURCE_BYTES = 1024 * 1024;
const MAX_ARGS_BYTES = 64 * 1024;

const bytes = (value: string) => Buffer.byteLength(value, 'utf8');

/** Files whose run is being written and queued by this process (two clicks at once start one run). */
const starting = new Set<string>();

const runInput = z.object({
  functionName: z
    .string('Function name must be text')
    .max(200, 'Function name must be at most 200 characters')
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'Function name must be a Python identifier'),
  args: z
    .record(z.string(), z.json(), 'Arguments must be a JSON object of keyword arguments')
    .refine(
      (args) => bytes(JSON.stringify(args)) <= MAX_ARGS_BYTES,
      'Arguments must be at most 64 KiB of JSON',
    ),
});

/**
 * Function files: Python modules edited live like a notebook's cell (same rooms, history, machine
 * and kernel, listed with notebooks and renamed or deleted through `notebook.*`), run one function
 * at a time with keyword arguments.
 */
export const functionFileRouter = router({
  /** Creates a function file holding `source` (or a small example) and an empty run output. */
  create: workspaceProcedure('notebook.edit')
    .input(
      z.object({
        name: notebookName,
        source: z
          .string('Source must be text')
          .refine((value) => bytes(value) <= MAX_SOURCE_BYTES, 'Source must be at most 1 MiB')
          .optional(),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const documents = requireDocuments(ctx.options);
      const file = await createNotebook(ctx.db, {
        workspaceId: input.workspaceId,
        name: input.name,
        createdById: ctx.user.id,
        kind: 'function',
      });
      try {
        const content = createFunctionFileDoc(input.source);
        // The room seeds every new document as a notebook with one empty cell; this replaces it.
        await withDocument(documents, file.id, (connection) =>
          connection.transact((doc) => replaceNotebookContent(doc, content)),
        );
      } catch (error) {
        await deleteNotebook(ctx.db, input.workspaceId, file.id).catch(() => undefined);
        throw error;
      }
      return file;
    }),

  /**
   * Runs the module, then calls `functionName(**args)` in the file's kernel; the output streams into
   * the file's run output, which every collaborator sees. One run at a time per file.
   */
  run: notebookProcedure('notebook.run')
    .input(runInput)
    .mutation(async ({ ctx, input }) => {
      if (ctx.notebook.kind !== 'function') {
        throw new DomainError(
          'BAD_REQUEST',
          'This is a notebook, not a function file; run its cells instead',
        );
      }
      const execution = requireExecution(ctx.options);
      const state = execution.state(ctx.notebook.id);
      if (starting.has(ctx.notebook.id) || (state && (state.running || state.queue.length > 0))) {
        throw new DomainError('CONFLICT', 'This file is still running; wait for the run to end or stop it');
      }
      starting.add(ctx.notebook.id);
      try {
        return await startRun(ctx, input);
      } finally {
        starting.delete(ctx.notebook.id);
      }
    }),
});

/** Writes the call of `input` into the file's call cell, then queues the module and the call. */
async function startRun(ctx: RunContext, input: z.infer<typeof runInput>) {
  const documents = requireDocuments(ctx.options);
  await withDocument(documents, ctx.notebook.id, async (connection) => {
    const { module, call } = functionFileCells(connection.document);
    if (!module || !call) {
      throw new DomainError('CONFLICT', 'This function file has lost its module; restore a version of it');
    }
    const fn = listModuleFunctions(functionModuleSource(connection.document)).find(
      (candidate) => candidate.name === input.functionName,
    );
    if (!fn) {
      throw new DomainError(
        'NOT_FOUND',
        `No function named ${input.functionName} is defined at the top level of this file`,
        {
          field: 'functionName',
        },
      );
    }
    const args = input.args as JsonObject;
    await connection.transact(() => {
      const source = call.get('source');
      if (source instanceof Y.Text) {
        source.delete(0, source.length);
        source.insert(0, functionCallSource(fn, args));
      } else {
        call.set('source', new Y.Text(functionCallSource(fn, args)));
      }
      // The last run's output goes now, so a module that fails to import leaves no stale result.
      const outputs = call.get('outputs');
      if (outputs instanceof Y.Array) outputs.delete(0, outputs.length);
      call.set('execution_count', null);
      setCellMetadata(call, 'kiln_run', {
        function: fn.name,
        args,
        by: ctx.user.name,
      });
    });
  });
  return queueRun(ctx, { kind: 'cells', cellIds: [FUNCTION_MODULE_CELL, FUNCTION_CALL_CELL] });
}
