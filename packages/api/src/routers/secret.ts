import { MAX_KEYS_PER_SECRET, MAX_SECRETS_PER_NOTEBOOK, type SecretSummary } from '@kiln/secrets';
import { z } from 'zod';
import { id } from '../inputs.ts';
import { requireSecrets } from '../services.ts';
import { notebookProcedure, router, workspaceProcedure } from '../trpc.ts';

// Shapes only; the vault checks names, reserved variables and byte sizes and says what is wrong.
const variableName = z
  .string('A variable name must be text')
  .max(128, 'A variable name is at most 128 characters');
const values = z
  .record(variableName, z.string('A value must be text').max(32 * 1024, 'A value is at most 32 KiB'))
  .refine(
    (record) => Object.keys(record).length <= MAX_KEYS_PER_SECRET,
    `A secret holds at most ${MAX_KEYS_PER_SECRET} variables`,
  );
const secretName = z.string('Secret name must be text').max(63, 'A secret name is at most 63 characters');

/** What a browser gets of a secret: its name and variable names, never a value. */
function view(secret: SecretSummary) {
  return { id: secret.id, name: secret.name, keys: secret.keys, updatedAt: secret.updatedAt };
}

export const secretRouter = router({
  /** Names and variable names of the workspace's secrets, for every member. */
  list: workspaceProcedure('workspace.read').query(async ({ ctx, input }) =>
    (await requireSecrets(ctx.options).list(input.workspaceId)).map(view),
  ),

  create: workspaceProcedure('secret.manage')
    .input(z.object({ name: secretName, values }))
    .mutation(async ({ ctx, input }) =>
      view(
        await requireSecrets(ctx.options).create(
          input.workspaceId,
          { userId: ctx.user.id, ip: ctx.ip },
          { name: input.name, values: input.values },
        ),
      ),
    ),

  /** Sets the given variables and removes those in `remove`; the rest keep their stored values. */
  update: workspaceProcedure('secret.manage')
    .input(
      z.object({
        secretId: id('Secret'),
        values: values.optional(),
        remove: z.array(variableName).max(MAX_KEYS_PER_SECRET).optional(),
      }),
    )
    .mutation(async ({ ctx, input }) =>
      view(
        await requireSecrets(ctx.options).update(
          input.workspaceId,
          { userId: ctx.user.id, ip: ctx.ip },
          input.secretId,
          { values: input.values, remove: input.remove },
        ),
      ),
    ),

  delete: workspaceProcedure('secret.manage')
    .input(z.object({ secretId: id('Secret') }))
    .mutation(async ({ ctx, input }) => {
      await requireSecrets(ctx.options).remove(
        input.workspaceId,
        { userId: ctx.user.id, ip: ctx.ip },
        input.secretId,
      );
      return { ok: true as const };
    }),

  /** The secrets a notebook's kernel gets, in the order they apply. */
  forNotebook: notebookProcedure('workspace.read').query(async ({ ctx }) =>
    (await requireSecrets(ctx.options).notebookSecrets(ctx.member.workspaceId, ctx.notebook.id)).map(view),
  ),

  /** Chooses the notebook's secrets; its kernel gets them when it next starts. */
  setForNotebook: notebookProcedure('notebook.edit')
    .input(
      z.object({
        secretIds: z
          .array(id('Secret'))
          .max(MAX_SECRETS_PER_NOTEBOOK, `A notebook uses at most ${MAX_SECRETS_PER_NOTEBOOK} secrets`),
      }),
    )
    .mutation(async ({ ctx, input }) =>
      (
        await requireSecrets(ctx.options).setNotebookSecrets(
          ctx.member.workspaceId,
          { userId: ctx.user.id, ip: ctx.ip },
          ctx.notebook.id,
          input.secretIds,
        )
      ).map(view),
    ),
});
