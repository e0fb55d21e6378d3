import { type Db, Prisma } from '@kiln/db';
import type { KernelRecord, KernelResources, KernelStore, QueuedCellView } from './types.ts';

export interface PostgresKernelStoreOptions {
  /** The gateway this process talks to: only its kernels are listed, and new rows name it. */
  gatewayUrl: string;
}

/**
 * Kernel records in the `NotebookKernel` table, so a web process that restarts (or crashed) takes
 * over the kernels of the one before. A deleted notebook takes its row with it (cascade).
 */
export function createPostgresKernelStore(db: Db, options: PostgresKernelStoreOptions): KernelStore {
  const { gatewayUrl } = options;
  return {
    async save(record) {
      // A JSON column is cleared with DbNull; `undefined` would leave the old running cell in place.
      const data = {
        workspaceId: record.workspaceId,
        gatewayUrl,
        kernelId: record.kernelId,
        sessionId: record.sessionId,
        running: json(record.running),
        queue: json(record.queue) as Prisma.InputJsonValue,
        resources: json(record.resources),
      };
      await db.notebookKernel.upsert({
        where: { notebookId: record.notebookId },
        create: { notebookId: record.notebookId, ...data },
        update: data,
      });
    },
    async remove(notebookId) {
      await db.notebookKernel.deleteMany({ where: { notebookId } });
    },
    async list() {
      const rows = await db.notebookKernel.findMany({ where: { gatewayUrl } });
      return rows.map(
        (row): KernelRecord => ({
          notebookId: row.notebookId,
          workspaceId: row.workspaceId,
          kernelId: row.kernelId,
          sessionId: row.sessionId,
          running: (row.running as KernelRecord['running']) ?? null,
          queue: (row.queue as unknown as QueuedCellView[]) ?? [],
          ...(row.resources ? { resources: row.resources as KernelResources } : {}),
        }),
      );
    },
  };
}

function json(value: unknown): Prisma.InputJsonValue | typeof Prisma.DbNull {
  return value === null || value === undefined ? Prisma.DbNull : (value as Prisma.InputJsonValue);
}
