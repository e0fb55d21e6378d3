import type { PlanTier } from '@kiln/billing';
import { DomainError, isUuid } from '@kiln/core';
import type { Db } from '@kiln/db';
import type { WorkspaceUsage } from '../policy/limits.ts';
import type { Tx } from './tx.ts';

/**
 * Locks a workspace's row against other placements for it (not against reads or foreign-key checks),
 * so its quota is counted and used by one transaction at a time. Returns its plan.
 */
export async function lockWorkspace(tx: Tx, workspaceId: string): Promise<PlanTier> {
  if (!isUuid(workspaceId)) throw new DomainError('NOT_FOUND', `No workspace ${workspaceId}`);
  const rows = await tx.$queryRaw<{ plan: PlanTier }[]>`
    SELECT plan::text AS plan FROM "Workspace" WHERE id = ${workspaceId}::uuid FOR NO KEY UPDATE`;
  const row = rows[0];
  if (!row) throw new DomainError('NOT_FOUND', `No workspace ${workspaceId}`);
  return row.plan;
}

/** What a workspace holds against its plan: hibernated, stopped and lost containers count for nothing. */
export async function workspaceUsage(tx: Tx | Db, workspaceId: string): Promise<WorkspaceUsage> {
  const [row] = await tx.$queryRaw<WorkspaceUsage[]>`
    SELECT count(*)::int AS containers,
           COALESCE(sum(CASE WHEN state = 'queued' THEN "reservedGpus" ELSE cardinality("gpuIndices") END), 0)::int
             AS gpus
    FROM "Container"
    WHERE "workspaceId" = ${workspaceId}::uuid AND state IN ('queued', 'starting', 'running')`;
  return row ?? { containers: 0, gpus: 0 };
}
