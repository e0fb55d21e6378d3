import type { Db } from '@kiln/db';
import {
  createVolumes,
  type DiskMoveInput,
  type DiskRef,
  type DiskTransfer,
  diskPlacement,
  MAX_VOLUMES_PER_NOTEBOOK,
  moveDisk,
  pendingErasures,
  type VolumeMount,
  type VolumeSummary,
  type Volumes,
} from '@kiln/volumes';
import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { id } from '../inputs.ts';
import type { NotebookServices } from '../services.ts';
import { notebookProcedure, router, workspaceProcedure } from '../trpc.ts';

const volumeName = z.string('Volume name must be text').max(63, 'A volume name is at most 63 characters');

const defaults = new WeakMap<Db, Volumes>();

/** The configured volumes service, or one with the default plan limits over `db`. */
export function volumesOf(services: Pick<NotebookServices, 'volumes'> & { db: Db }): Volumes {
  if (services.volumes) return services.volumes;
  let volumes = defaults.get(services.db);
  if (!volumes) {
    volumes = createVolumes({ db: services.db });
    defaults.set(services.db, volumes);
  }
  return volumes;
}

/** The `volumes` of a notebook's kernel start, or nothing when it names none. */
export async function kernelVolumes(
  services: Pick<NotebookServices, 'volumes'> & { db: Db },
  workspaceId: string,
  notebookId: string,
): Promise<{ volumes?: VolumeMount[] }> {
  const volumes = await volumesOf(services).mountsForNotebook(workspaceId, notebookId);
  return volumes.length > 0 ? { volumes } : {};
}

/** A disk: a named volume's id, or `workspace` for the /workspace folder. */
const diskInput = z.union([z.literal('workspace'), id('Volume')]);
const unavailable = async (): Promise<never> => {
  throw new TRPCError({
    code: 'PRECONDITION_FAILED',
    message: 'No kernel gateway is configured, so disks cannot be moved',
  });
};
/** Without a gateway there are no nodes to copy between; only the checks before a copy can run. */
const NO_GATEWAY: DiskTransfer = { manifest: unavailable, copy: unavailable, erase: unavailable };
const diskOf = (disk: string): DiskRef => (disk === 'workspace' ? { workspace: true } : { volumeId: disk });

function view(volume: VolumeSummary) {
  return { id: volume.id, name: volume.name, quotaMiB: volume.quotaMiB, createdAt: volume.createdAt };
}

export const volumeRouter = router({
  /** The workspace's volumes with their quota; used sizes come from the node that holds them. */
  list: workspaceProcedure('workspace.read').query(async ({ ctx, input }) =>
    (await volumesOf(ctx.options).list(input.workspaceId)).map(view),
  ),

  /** Editors add volumes, within the plan's number of volumes. */
  create: workspaceProcedure('notebook.edit')
    .input(z.object({ name: volumeName }))
    .mutation(async ({ ctx, input }) =>
      view(
        await volumesOf(ctx.options).create(
          input.workspaceId,
          { userId: ctx.user.id, ip: ctx.ip },
          input.name,
        ),
      ),
    ),

  /**
   * Admins delete a volume and every file on it. The volume is gone at once; its disk is erased on its
   * node now, or once that node is back online and the kernels that still mount it have stopped.
   * Refused (CONFLICT, naming them) while live or hibernated kernels or endpoint replicas mount it,
   * unless `evenIfMounted`: those are stopped first, each told why.
   */
  delete: workspaceProcedure('workspace.update')
    .input(
      z.object({
        volumeId: id('Volume'),
        evenIfMounted: z.boolean('evenIfMounted must be true or false').optional(),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const removed = await volumesOf(ctx.options).remove(
        input.workspaceId,
        { userId: ctx.user.id, ip: ctx.ip },
        input.volumeId,
        { evenIfMounted: input.evenIfMounted ?? false },
      );
      const disk = (await ctx.options.volumeDisks?.reap(input.volumeId)) ?? {
        erased: false,
        waiting: 'no kernel gateway is configured',
      };
      return {
        ok: true as const,
        erased: disk.erased,
        /** Why its files are not erased yet (they will be), or null. */
        waiting: disk.erased ? null : disk.waiting,
        mountedBy: removed.holders.map((holder) => holder.label),
      };
    }),

  /**
   * Disks of the workspace whose files are still to be erased (deleted volumes, old copies of moved
   * ones), with why they wait: their node is offline, or a kernel still mounts them.
   */
  pendingErasures: workspaceProcedure('workspace.read').query(async ({ ctx, input }) =>
    (await pendingErasures(ctx.db, input.workspaceId)).map((row) => ({
      name: row.name,
      movedTo: row.movedTo,
      nodeId: row.nodeId,
      since: row.since,
      waiting: row.waiting,
    })),
  ),

  /** Where a volume (or `workspace`, /workspace) lives, the nodes it could move to, and what mounts it. */
  placement: workspaceProcedure('workspace.update')
    .input(z.object({ disk: diskInput }))
    .query(({ ctx, input }) => diskPlacement(ctx.db, input.workspaceId, diskOf(input.disk))),

  /**
   * Admins move a volume or /workspace to another registered node: refused while anything mounts it
   * (named), copied node to node and verified before the record switches, the old copy erased now or
   * once its node is back. For a disk whose node is lost, `abandonConfirm` (its name, typed) starts it
   * empty on the new node instead.
   */
  move: workspaceProcedure('workspace.update')
    .input(
      z.object({
        disk: diskInput,
        toNodeId: z.string('Choose a node').min(1, 'Choose a node').max(200, 'No such node'),
        abandonConfirm: z.string('Type the name to confirm').max(100).optional(),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const move =
        ctx.options.volumeDisks?.move ??
        ((request: DiskMoveInput) => moveDisk({ db: ctx.db, transfer: NO_GATEWAY }, request));
      const moved = await move({
        workspaceId: input.workspaceId,
        actor: { userId: ctx.user.id, ip: ctx.ip },
        disk: diskOf(input.disk),
        toNodeId: input.toNodeId,
        ...(input.abandonConfirm !== undefined ? { abandon: { confirm: input.abandonConfirm } } : {}),
      });
      return {
        name: moved.name,
        from: moved.from,
        to: moved.to,
        files: moved.files,
        bytes: moved.bytes,
        abandoned: moved.abandoned,
        skipped: moved.skipped,
        oldCopyErased: moved.oldCopyErased,
        oldCopyWaiting: moved.oldCopyWaiting,
      };
    }),

  /** The volumes a notebook's kernel mounts at /vol/<name>. */
  forNotebook: notebookProcedure('workspace.read').query(({ ctx }) =>
    volumesOf(ctx.options).notebookVolumes(ctx.member.workspaceId, ctx.notebook.id),
  ),

  /** Chooses the notebook's volumes; its kernel mounts them when it next starts. */
  setForNotebook: notebookProcedure('notebook.edit')
    .input(
      z.object({
        volumes: z
          .array(z.object({ volumeId: id('Volume'), readOnly: z.boolean('readOnly must be true or false') }))
          .max(MAX_VOLUMES_PER_NOTEBOOK, `A notebook mounts at most ${MAX_VOLUMES_PER_NOTEBOOK} volumes`),
      }),
    )
    .mutation(({ ctx, input }) =>
      volumesOf(ctx.options).setForNotebook(ctx.member.workspaceId, ctx.notebook.id, input.volumes),
    ),
});
