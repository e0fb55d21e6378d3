import type { ImageSummary } from '@kiln/images/store';
import { z } from 'zod';
import { id } from '../inputs.ts';
import { imagesOf } from '../services.ts';
import { notebookProcedure, router, workspaceProcedure } from '../trpc.ts';

// Shapes only; @kiln/images checks each package name and says which one is wrong.
const packages = z
  .array(
    z.string('A package must be text').max(200, 'A package entry is at most 200 characters'),
    'Packages must be a list',
  )
  .max(100, 'At most 100 packages');
const imageName = z.string('Image name must be text').max(63, 'An image name is at most 63 characters');

/** What a browser gets of an image. */
function view(image: ImageSummary) {
  return image;
}

/** Workspace images: members see them, editors and admins define, rebuild and delete them. */
export const imageRouter = router({
  list: workspaceProcedure('workspace.read').query(async ({ ctx, input }) =>
    (await imagesOf({ ...ctx.options, db: ctx.db }).list(input.workspaceId)).map(view),
  ),

  create: workspaceProcedure('notebook.edit')
    .input(z.object({ name: imageName, debian: packages.optional(), python: packages.optional() }))
    .mutation(async ({ ctx, input }) =>
      view(
        await imagesOf({ ...ctx.options, db: ctx.db }).create(
          input.workspaceId,
          { userId: ctx.user.id, ip: ctx.ip },
          input,
        ),
      ),
    ),

  /** New packages build while kernels keep the image's last build; a failed build changes nothing for them. */
  update: workspaceProcedure('notebook.edit')
    .input(
      z.object({
        imageId: id('Image'),
        name: imageName.optional(),
        debian: packages.optional(),
        python: packages.optional(),
      }),
    )
    .mutation(async ({ ctx, input }) =>
      view(
        await imagesOf({ ...ctx.options, db: ctx.db }).update(input.workspaceId, input.imageId, input, {
          userId: ctx.user.id,
          ip: ctx.ip,
        }),
      ),
    ),

  rebuild: workspaceProcedure('notebook.edit')
    .input(z.object({ imageId: id('Image') }))
    .mutation(async ({ ctx, input }) =>
      view(
        await imagesOf({ ...ctx.options, db: ctx.db }).rebuild(input.workspaceId, input.imageId, {
          userId: ctx.user.id,
          ip: ctx.ip,
        }),
      ),
    ),

  delete: workspaceProcedure('notebook.edit')
    .input(z.object({ imageId: id('Image') }))
    .mutation(async ({ ctx, input }) => {
      await imagesOf({ ...ctx.options, db: ctx.db }).remove(input.workspaceId, input.imageId, {
        userId: ctx.user.id,
        ip: ctx.ip,
      });
      return { ok: true as const };
    }),

  /** The image's build state and log from `offset`; poll with `next` while the state is `building`. */
  follow: workspaceProcedure('workspace.read')
    .input(
      z.object({
        imageId: id('Image'),
        offset: z
          .number()
          .int()
          .min(0)
          .max(1 << 30)
          .default(0),
      }),
    )
    .query(async ({ ctx, input }) => {
      const followed = await imagesOf({ ...ctx.options, db: ctx.db }).follow(
        input.workspaceId,
        input.imageId,
        input.offset,
      );
      return { ...followed, image: view(followed.image) };
    }),

  /** Chooses the image the notebook's next kernel starts from (null: Kiln's base image). */
  setForNotebook: notebookProcedure('notebook.edit')
    .input(z.object({ imageId: id('Image').nullable() }))
    .mutation(async ({ ctx, input }) => {
      if (input.imageId)
        await imagesOf({ ...ctx.options, db: ctx.db }).get(ctx.member.workspaceId, input.imageId);
      await ctx.db.notebook.update({ where: { id: ctx.notebook.id }, data: { imageId: input.imageId } });
      return { imageId: input.imageId };
    }),
});
