import { DomainError } from '@kiln/core';
import { type Db, Prisma } from '@kiln/db';
import type { KernelRecord, KernelResources, KernelStore, QueuedCellView } from './types.ts';

export interface PostgresKernelStoreOptions {
  /**
   * The web process these records belong to (`WebProcessLease.id`): it saves rows under this id and
   * `list()` claims its own rows, unowned ones and those of processes whose lease ran out, atomically, so
   * two processes never both take one kernel.
   */
  ownerId: string;
  /** Written on new rows for the record (kernels are placed through the scheduler: 'scheduler'). */
  gatewayUrl?: string;
}

interface KernelRow {
  notebookId: string;
  workspaceId: string;
  kernelId: string;
  sessionId: string;
  running: unknown;
  queue: unknown;
  resources: unknown;
}

/**
 * Kernel records in the `NotebookKernel` table, so a web process that restarts (or crashed) takes
 * over the kernels of the one before. A deleted notebook takes its row with it (cascade).
 */
export function createPostgresKernelStore(db: Db, options: PostgresKernelStoreOptions): KernelStore {
  const { ownerId } = options;
  const gatewayUrl = options.gatewayUrl ?? 'scheduler';
  const mine = { OR: [{ ownerId }, { ownerId: null }] };
  // Rows nobody owns, and those of processes whose lease ran out, become this owner's.
  const claimRows = Prisma.sql`
    UPDATE "NotebookKernel" k SET "ownerId" = ${ownerId}
    WHERE k."ownerId" IS NULL OR (k."ownerId" <> ${ownerId} AND NOT EXISTS (
      SELECT 1 FROM "WebProcessLease" l
      WHERE l."id" = k."ownerId" AND l."expiresAt" > now() AT TIME ZONE 'UTC'))
    RETURNING k.*`;
  return {
    async save(record) {
      // A JSON column is cleared with DbNull; `undefined` would leave the old running cell in place.
      const data = {
        workspaceId: record.workspaceId,
        gatewayUrl,
        ownerId,
        kernelId: record.kernelId,
        sessionId: record.sessionId,
        running: json(record.running),
        queue: json(record.queue) as Prisma.InputJsonValue,
        resources: json(record.resources),
      };
      const updated = await db.notebookKernel.updateMany({
        where: { notebookId: record.notebookId, ...mine },
        data,
      });
      if (updated.count > 0) return;
      try {
        await db.notebookKernel.create({ data: { notebookId: record.notebookId, ...data } });
      } catch (error) {
        if (!(error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002')) throw error;
        // The row exists under another live owner: that process drives this kernel now.
        throw new DomainError(
          'CONFLICT',
          `The kernel of notebook ${record.notebookId} is driven by another web process`,
        );
      }
    },
    async remove(notebookId) {
      await db.notebookKernel.deleteMany({ where: { notebookId, ...mine } });
    },
    async list() {
      // One statement: row locks make a second process that claims at the same moment re-check the row,
      // see this owner's live lease, and skip it.
      const rows = await db.$queryRaw<KernelRow[]>`
        WITH claimed AS (${claimRows})
        SELECT "notebookId", "workspaceId", "kernelId", "sessionId", "running", "queue", "resources"
        FROM claimed
        UNION ALL
        SELECT "notebookId", "workspaceId", "kernelId", "sessionId", "running", "queue", "resources"
        FROM "NotebookKernel" WHERE "ownerId" = ${ownerId}`;
      return rows.map(toRecord);
    },
    async claim() {
      const rows = await db.$queryRaw<KernelRow[]>`
        WITH claimed AS (${claimRows})
        SELECT "notebookId", "workspaceId", "kernelId", "sessionId", "running", "queue", "resources"
        FROM claimed`;
      return rows.map(toRecord);
    },
  };
}

function toRecord(row: KernelRow): KernelRecord {
  return {
    notebookId: row.notebookId,
    workspaceId: row.workspaceId,
    kernelId: row.kernelId,
    sessionId: row.sessionId,
    running: (row.running as KernelRecord['running']) ?? null,
    queue: (row.queue as QueuedCellView[] | null) ?? [],
    ...(row.resources ? { resources: row.resources as KernelResources } : {}),
  };
}

function json(value: unknown): Prisma.InputJsonValue | typeof Prisma.DbNull {
  return value === null || value === undefined ? Prisma.DbNull : (value as Prisma.InputJsonValue);
}
