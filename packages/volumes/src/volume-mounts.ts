import { PLANS, type PlanTier } from '@kiln/billing';
import { DomainError } from '@kiln/core';
import type { Db } from '@kiln/db';
import { validateVolumeName, volumeMountPath } from './volume-name.ts';

/** A volume a sandbox names: by name, read-write unless `readOnly`. */
export interface VolumeRef {
  name: string;
  readOnly?: boolean;
}

/**
 * What a gateway needs to mount one volume into a sandbox: the volume's id (its disk on the node),
 * its name, where it appears, how, and the size its file system has (the workspace plan's quota).
 */
export interface VolumeMount {
  id: string;
  name: string;
  target: string;
  readOnly: boolean;
  quotaMiB: number;
}

/** Per-plan volume quota in MiB; operators may override the defaults from @kiln/billing. */
export type VolumeQuotas = Partial<Record<PlanTier, number>>;

/** The quota of one volume of a workspace on `plan`. */
export function volumeQuotaMiB(plan: PlanTier, quotas: VolumeQuotas = {}): number {
  return quotas[plan] ?? PLANS[plan].volumeQuotaMiB;
}

/**
 * Turns the volume names a notebook, function or endpoint uses into mount specs for its sandbox.
 * Unknown names (or names of another workspace's volumes) fail with NOT_FOUND; a name listed twice
 * fails too.
 */
export async function volumeMounts(
  db: Db,
  workspaceId: string,
  refs: readonly VolumeRef[],
  quotas: VolumeQuotas = {},
): Promise<VolumeMount[]> {
  if (refs.length === 0) return [];
  const names = refs.map((ref) => validateVolumeName(ref.name));
  if (new Set(names).size !== names.length)
    throw new DomainError('VALIDATION_FAILED', 'Each volume can be mounted only once');
  const [workspace, rows] = await Promise.all([
    db.workspace.findUnique({ where: { id: workspaceId }, select: { plan: true } }),
    db.volume.findMany({ where: { workspaceId, name: { in: names } }, select: { id: true, name: true } }),
  ]);
  if (!workspace) throw new DomainError('NOT_FOUND', 'Workspace not found');
  const quotaMiB = volumeQuotaMiB(workspace.plan, quotas);
  return refs.map((ref) => {
    const row = rows.find((candidate) => candidate.name === ref.name);
    if (!row) throw new DomainError('NOT_FOUND', `This workspace has no volume named ${ref.name}`);
    return {
      id: row.id,
      name: row.name,
      target: volumeMountPath(row.name),
      readOnly: ref.readOnly === true,
      quotaMiB,
    };
  });
}
