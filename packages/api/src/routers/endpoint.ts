import { getNotebook } from '@kiln/accounts';
import { DomainError } from '@kiln/core';
import { type CapturedFunction, captureFunction, type EndpointSettings } from '@kiln/endpoints';
import { getCells } from '@kiln/notebook';
import { z } from 'zod';
import { id } from '../inputs.ts';
import { requireDocuments, requireEndpoints, withDocument } from '../services.ts';
import { notebookProcedure, router, workspaceProcedure } from '../trpc.ts';
import { sandboxInput, versionSandbox } from './endpoint-sandbox.ts';
import { machineChoices } from './notebook-machines.ts';

// Shapes only: @kiln/endpoints checks the ranges and says which field is wrong.
const settings = z
  .object({
    public: z.boolean('Public must be true or false'),
    cpu: z.number('CPU must be a number'),
    memoryMiB: z.number('Memory must be a number'),
    gpu: z.array(z.string('A GPU shape is text').max(40, 'A GPU shape is at most 40 characters')).max(8),
    minReplicas: z.number(),
    maxReplicas: z.number(),
    bufferReplicas: z.number(),
    scaleDownSeconds: z.number(),
    targetConcurrency: z.number(),
    timeoutSeconds: z.number(),
    queueLimit: z.number(),
  })
  .partial() satisfies z.ZodType<Partial<EndpointSettings>>;

const label = z.string('Label must be text').max(100, 'Label is at most 48 characters');
const functionName = z.string('Function name must be text').max(200, 'Function name is too long');
const sampleInput = z.record(z.string(), z.unknown(), 'Sample input is a JSON object of keyword arguments');
const endpointInput = z.object({ endpointId: id('Endpoint') });

/** The code cells of a notebook's live document, in order. */
async function notebookCode(services: Parameters<typeof requireDocuments>[0], notebookId: string) {
  return withDocument(requireDocuments(services), notebookId, (connection) =>
    getCells(connection.document)
      .toArray()
      .filter((cell) => cell.get('cell_type') === 'code')
      .map((cell) => ({ id: String(cell.get('id') ?? ''), source: String(cell.get('source') ?? '') })),
  );
}

function dependencies(captured: CapturedFunction) {
  return { imports: captured.imports, definitions: captured.definitions, missing: captured.missing };
}

export const endpointRouter = router({
  list: workspaceProcedure('workspace.read').query(async ({ ctx, input }) =>
    requireEndpoints(ctx.options).runtime.store.list(input.workspaceId),
  ),

  /** One endpoint's page: settings, versions, tokens (never their values), replicas and recent calls. */
  get: workspaceProcedure('workspace.read')
    .input(endpointInput)
    .query(async ({ ctx, input }) => {
      const { runtime } = requireEndpoints(ctx.options);
      const endpoint = await runtime.store.get(input.workspaceId, input.endpointId);
      const [versions, tokens, requests, stats] = await Promise.all([
        runtime.versions.list(input.workspaceId, endpoint.id),
        runtime.store.listTokens(input.workspaceId, endpoint.id),
        runtime.log.recent(input.workspaceId, endpoint.id, 50),
        runtime.log.stats(input.workspaceId, endpoint.id),
      ]);
      const workspace = await ctx.db.workspace.findUniqueOrThrow({ where: { id: input.workspaceId } });
      return {
        endpoint,
        path: `/e/${workspace.slug}/${endpoint.label}`,
        versions,
        tokens,
        requests,
        stats,
        replicas: runtime.replicas(endpoint.id),
      };
    }),

  /** What a notebook function needs from the notebook (imports, definitions), for confirmation. */
  capture: notebookProcedure('notebook.run')
    .input(z.object({ functionName }))
    .mutation(async ({ ctx, input }) => {
      const { capture } = requireEndpoints(ctx.options);
      const cells = await notebookCode(ctx.options, ctx.notebook.id);
      const captured = await captureFunction(
        capture,
        cells.map((cell) => cell.source),
        input.functionName,
      );
      return { ...captured, cellId: cells[captured.cell]?.id ?? null };
    }),

  /** The same for a function file's text (the function editors). */
  captureSource: workspaceProcedure('notebook.run')
    .input(
      z.object({
        source: z.string('Source must be text').max(1_048_576, 'Source is at most 1 MiB'),
        functionName,
      }),
    )
    .mutation(async ({ ctx, input }) =>
      captureFunction(requireEndpoints(ctx.options).capture, [input.source], input.functionName),
    ),

  /**
   * The deploy dialog's machine picker, as the notebook's: each GPU choice at `cpu` and `memoryMiB` with
   * whether a replica starts now, would wait (and why) or is refused, and its price per hour. `volumeIds`
   * (the deploy's volumes; other workspaces' are ignored) pin replicas to their node.
   */
  machines: workspaceProcedure('notebook.run')
    .input(
      z.object({
        cpu: z.number('CPU must be a number').positive('CPU must be more than 0').max(1024),
        memoryMiB: z.number('Memory must be a number').positive('Memory must be more than 0').max(16_777_216),
        volumeIds: z.array(id('Volume')).max(16).optional(),
      }),
    )
    .query(async ({ ctx, input }) => {
      const asked = input.volumeIds ?? [];
      const volumes =
        asked.length === 0
          ? []
          : (
              await ctx.db.volume.findMany({
                where: { id: { in: asked }, workspaceId: input.workspaceId },
                select: { id: true },
              })
            ).map((volume) => volume.id);
      return machineChoices(ctx, input.workspaceId, input, volumes);
    }),

  create: workspaceProcedure('notebook.run')
    .input(z.object({ label, settings: settings.optional() }))
    .mutation(async ({ ctx, input }) =>
      requireEndpoints(ctx.options).runtime.store.create(
        input.workspaceId,
        { userId: ctx.user.id, ip: ctx.ip },
        { label: input.label, settings: input.settings },
      ),
    ),

  update: workspaceProcedure('notebook.run')
    .input(endpointInput.extend({ settings }))
    .mutation(async ({ ctx, input }) =>
      requireEndpoints(ctx.options).runtime.updateSettings(
        input.workspaceId,
        input.endpointId,
        input.settings,
        { userId: ctx.user.id, ip: ctx.ip },
      ),
    ),

  delete: workspaceProcedure('notebook.run')
    .input(endpointInput)
    .mutation(async ({ ctx, input }) => {
      await requireEndpoints(ctx.options).runtime.remove(input.workspaceId, input.endpointId, {
        userId: ctx.user.id,
        ip: ctx.ip,
      });
      return { deleted: true };
    }),

  /**
   * Deploys a notebook function: captured again on the server from the live notebook (what was shown
   * for confirmation), smoke-tested with `sampleInput`; live only if that passes.
   */
  deployFromNotebook: notebookProcedure('notebook.run')
    .input(endpointInput.extend({ functionName, sampleInput, sandbox: sandboxInput }))
    .mutation(async ({ ctx, input }) => {
      const { runtime, capture } = requireEndpoints(ctx.options);
      await runtime.store.get(input.workspaceId, input.endpointId);
      const sandbox = await versionSandbox(ctx.options, input.workspaceId, ctx.notebook.id, input.sandbox);
      const cells = await notebookCode(ctx.options, ctx.notebook.id);
      const captured = await captureFunction(
        capture,
        cells.map((cell) => cell.source),
        input.functionName,
      );
      return runtime.deploy(
        input.workspaceId,
        input.endpointId,
        { userId: ctx.user.id, ip: ctx.ip },
        {
          functionName: input.functionName,
          source: captured.source,
          origin: { kind: 'notebook', notebookId: ctx.notebook.id, cellId: cells[captured.cell]?.id ?? null },
          dependencies: dependencies(captured),
          parameters: captured.parameters,
          sampleInput: input.sampleInput,
          sandbox,
        },
      );
    }),

  /** Deploys a function from a function file's text (the module is the file as it is). */
  deploySource: workspaceProcedure('notebook.run')
    .input(
      endpointInput.extend({
        fileId: id('Function file'),
        source: z.string('Source must be text').max(1_048_576, 'Source is at most 1 MiB'),
        functionName,
        sampleInput,
        sandbox: sandboxInput,
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const { runtime, capture } = requireEndpoints(ctx.options);
      // The version records the file it came from: it must be a function file of this workspace.
      const file = await getNotebook(ctx.db, input.workspaceId, input.fileId);
      if (file.kind !== 'function') {
        throw new DomainError('BAD_REQUEST', 'Deploy a notebook’s function from the notebook, not as a file');
      }
      await runtime.store.get(input.workspaceId, input.endpointId);
      const sandbox = await versionSandbox(ctx.options, input.workspaceId, file.id, input.sandbox);
      const captured = await captureFunction(capture, [input.source], input.functionName);
      return runtime.deploy(
        input.workspaceId,
        input.endpointId,
        { userId: ctx.user.id, ip: ctx.ip },
        {
          functionName: input.functionName,
          source: input.source,
          origin: { kind: 'function_file', fileId: input.fileId },
          dependencies: dependencies(captured),
          parameters: captured.parameters,
          sampleInput: input.sampleInput,
          sandbox,
        },
      );
    }),

  diff: workspaceProcedure('workspace.read')
    .input(endpointInput.extend({ fromVersionId: id('Version'), toVersionId: id('Version') }))
    .query(async ({ ctx, input }) =>
      requireEndpoints(ctx.options).runtime.versions.diff(
        input.workspaceId,
        input.endpointId,
        input.fromVersionId,
        input.toVersionId,
      ),
    ),

  rollback: workspaceProcedure('notebook.run')
    .input(endpointInput.extend({ versionId: id('Version') }))
    .mutation(async ({ ctx, input }) =>
      requireEndpoints(ctx.options).runtime.rollback(input.workspaceId, input.endpointId, input.versionId, {
        userId: ctx.user.id,
        ip: ctx.ip,
      }),
    ),

  /** A new bearer token; its value is in this answer only. */
  createToken: workspaceProcedure('notebook.run')
    .input(
      endpointInput.extend({
        name: z.string('Name must be text').max(100, 'Name is at most 100 characters'),
      }),
    )
    .mutation(async ({ ctx, input }) =>
      requireEndpoints(ctx.options).runtime.store.createToken(
        input.workspaceId,
        input.endpointId,
        { userId: ctx.user.id, ip: ctx.ip },
        input.name,
      ),
    ),

  revokeToken: workspaceProcedure('notebook.run')
    .input(endpointInput.extend({ tokenId: id('Token') }))
    .mutation(async ({ ctx, input }) =>
      requireEndpoints(ctx.options).runtime.store.revokeToken(
        input.workspaceId,
        input.endpointId,
        input.tokenId,
        { userId: ctx.user.id, ip: ctx.ip },
      ),
    ),
});
