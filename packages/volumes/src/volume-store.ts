import { recordAudit } from '@kiln/accounts';
import { PLANS, type PlanTier } from '@kiln/billing';
import { DomainError } from '@kiln/core';
import type { Db } from '@kiln/db';
import { describeHolders, type VolumeHolder, volumeHolders } from './volume-deletion.ts';
import { type VolumeMount, type VolumeQuotas, volumeMounts, volumeQuotaMiB } from './volume-mounts.ts';
import { validateVolumeName } from './volume-name.ts';

/** Who acts, for the audit log. */
export interface VolumeActor {
  userId: string | null;
  ip?: string;
}

/** A volume as the API shows it. */
export interface VolumeSummary {
  id: string;
  name: string;
  quotaMiB: number;
  createdAt: Date;
}

/** A volume a notebook mounts. */
export interface NotebookVolumeUse {
  volumeId: string;
  name: string;
  readOnly: boolean;
}

export interface VolumesOptions {
  db: Db;
  /** Operator overrides of the per-plan volume size (MiB). */
  quotas?: VolumeQuotas;
  /** Operator overrides of the per-plan number of volumes (`null`: no limit). */
  limits?: Partial<Record<PlanTier, number | null>>;
}

/** Most volumes one notebook mounts. */
export const MAX_VOLUMES_PER_NOTEBOOK = 16;

function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: string } | null)?.code === 'P2002';
}

/** Named volumes of workspaces: create, list, delete, and which ones each notebook mounts. */
export function createVolumes(options: VolumesOptions) {
  const { db } = options;
  const limitOf = (plan: PlanTier) =>
    options.limits && plan in options.limits ? (options.limits[plan] ?? null) : PLANS[plan].volumes;

  async function planOf(workspaceId: string): Promise<PlanTier> {
    const workspace = await db.workspace.findUnique({ where: { id: workspaceId }, select: { plan: true } });
    if (!workspace) throw new DomainError('NOT_FOUND', 'Workspace not found');
    return workspace.plan;
  }

  return {
    async list(workspaceId: string): Promise<VolumeSummary[]> {
      const quotaMiB = volumeQuotaMiB(await planOf(workspaceId), options.quotas);
      const rows = await db.volume.findMany({ where: { workspaceId }, orderBy: { name: 'asc' } });
      return rows.map((row) => ({ id: row.id, name: row.name, quotaMiB, createdAt: row.createdAt }));
    },

    /** The volume of the workspace with this id, or NOT_FOUND (also for another workspace's volume). */
    async get(workspaceId: string, volumeId: string): Promise<VolumeSummary> {
      const [plan, row] = await Promise.all([
        planOf(workspaceId),
        db.volume.findFirst({ where: { id: volumeId, workspaceId } }),
      ]);
      if (!row) throw new DomainError('NOT_FOUND', 'Volume not found');
      const quotaMiB = volumeQuotaMiB(plan, options.quotas);
      return { id: row.id, name: row.name, quotaMiB, createdAt: row.createdAt };
    },

    /** Adds a volume within the plan's number of volumes. */
    async create(workspaceId: string, actor: VolumeActor, name: string): Promise<VolumeSummary> {
      validateVolumeName(name);
      const plan = await planOf(workspaceId);
      try {
        const row = await db.$transaction(async (tx) => {
          // Serialises creations per workspace, so two at once cannot both pass the limit.
          await tx.$queryRaw`SELECT id FROM "Workspace" WHERE id = ${workspaceId}::uuid FOR UPDATE`;
          const limit = limitOf(plan);
          if (limit !== null && (await tx.volume.count({ where: { workspaceId } })) >= limit)
            throw new DomainError(
              'QUOTA_EXCEEDED',
              `Your plan allows ${limit} volumes in a workspace; delete one or upgrade the plan`,
            );
          const created = await tx.volume.create({ data: { workspaceId, name, createdById: actor.userId } });
          await recordAudit(tx, {
            action: 'volume.created',
            workspaceId,
            actorId: actor.userId,
            target: name,
            metadata: { volumeId: created.id },
            ip: actor.ip,
          });
          return created;
        });
        const quotaMiB = volumeQuotaMiB(plan, options.quotas);
        return { id: row.id, name: row.name, quotaMiB, createdAt: row.createdAt };
      } catch (error) {
        if (isUniqueViolation(error))
          throw new DomainError('CONFLICT', `A volume named ${name} already exists`);
        throw error;
      }
    },

    /**
     * Deletes the volume for the workspace at once and leaves its disk to be erased (see
     * `reapVolumes`). Refused (CONFLICT, naming them) while live or hibernated kernels or endpoint
     * replicas mount it, unless `evenIfMounted`: then the reaper stops them, each told why, and the
     * files go after that (never while any of them still runs or sleeps).
     */
    async remove(
      workspaceId: string,
      actor: VolumeActor,
      volumeId: string,
      options: { evenIfMounted?: boolean } = {},
    ): Promise<VolumeSummary & { holders: VolumeHolder[] }> {
      const volume = await this.get(workspaceId, volumeId);
      const holders = await db.$transaction(async (tx) => {
        // Placements bind and read volumes under the workspace's lock: none starts mounting it meanwhile.
        await tx.$queryRaw`SELECT id FROM "Workspace" WHERE id = ${workspaceId}::uuid FOR NO KEY UPDATE`;
        const row = await tx.volume.findFirst({ where: { id: volumeId, workspaceId } });
        if (!row) throw new DomainError('NOT_FOUND', 'Volume not found');
        const live = await volumeHolders(tx, volume.id);
        if (live.length > 0 && !options.evenIfMounted) {
          throw new DomainError(
            'CONFLICT',
            `The volume ${volume.name} is mounted by ${describeHolders(live)}. Stop ${live.length > 1 ? 'them' : 'it'} first, or delete it anyway: ${live.length > 1 ? 'they are' : 'it is'} stopped (told why), then its files are erased.`,
            { reason: 'volume_in_use', holders: live.map((holder) => holder.label) },
          );
        }
        await tx.volumeReap.create({
          data: { volumeId: row.id, workspaceId, name: row.name, nodeId: row.nodeId },
        });
        await tx.volume.delete({ where: { id: row.id } });
        await recordAudit(tx, {
          action: 'volume.deleted',
          workspaceId,
          actorId: actor.userId,
          target: volume.name,
          metadata: {
            volumeId: volume.id,
            ...(live.length > 0 ? { mountedBy: live.map((holder) => holder.label) } : {}),
          },
          ip: actor.ip,
        });
        return live;
      });
      return { ...volume, holders };
    },

    async notebookVolumes(workspaceId: string, notebookId: string): Promise<NotebookVolumeUse[]> {
      const rows = await db.notebookVolume.findMany({
        where: { notebookId, notebook: { workspaceId } },
        include: { volume: { select: { name: true } } },
        orderBy: { volume: { name: 'asc' } },
      });
      return rows.map((row) => ({ volumeId: row.volumeId, name: row.volume.name, readOnly: row.readOnly }));
    },

    /** Chooses the notebook's volumes (replacing its previous choice); its kernel mounts them when it next starts. */
    async setForNotebook(
      workspaceId: string,
      notebookId: string,
      uses: { volumeId: string; readOnly: boolean }[],
    ): Promise<NotebookVolumeUse[]> {
      if (uses.length > MAX_VOLUMES_PER_NOTEBOOK)
        throw new DomainError(
          'VALIDATION_FAILED',
          `A notebook mounts at most ${MAX_VOLUMES_PER_NOTEBOOK} volumes`,
        );
      const ids = uses.map((use) => use.volumeId);
      if (new Set(ids).size !== ids.length)
        throw new DomainError('VALIDATION_FAILED', 'Each volume can be mounted only once');
      const notebook = await db.notebook.findFirst({
        where: { id: notebookId, workspaceId },
        select: { id: true },
      });
      if (!notebook) throw new DomainError('NOT_FOUND', 'Notebook not found');
      const found = await db.volume.count({ where: { workspaceId, id: { in: ids } } });
      if (found !== ids.length) throw new DomainError('NOT_FOUND', 'Volume not found');
      await db.$transaction([
        db.notebookVolume.deleteMany({ where: { notebookId } }),
        db.notebookVolume.createMany({
          data: uses.map((use) => ({ notebookId, volumeId: use.volumeId, readOnly: use.readOnly })),
        }),
      ]);
      return this.notebookVolumes(workspaceId, notebookId);
    },

    /** The mount specs of the volumes a notebook's kernel gets. */
    async mountsForNotebook(workspaceId: string, notebookId: string): Promise<VolumeMount[]> {
      const uses = await this.notebookVolumes(workspaceId, notebookId);
      return volumeMounts(db, workspaceId, uses, options.quotas);
    },

    /** Mount specs for named volumes (for endpoints and functions that list volumes by name). */
    mounts(workspaceId: string, refs: { name: string; readOnly?: boolean }[]): Promise<VolumeMount[]> {
      return volumeMounts(db, workspaceId, refs, options.quotas);
    },
  };
}

/** The volumes service. */
export type Volumes = ReturnType<typeof createVolumes>;
