import type { Db, Prisma } from '@kiln/db';

export type Tx = Prisma.TransactionClient;

export interface TxOptions {
  /** Longest a transaction may run before Prisma aborts it. */
  timeoutMs: number;
}

// Postgres breaks lock cycles (40P01) and serialization conflicts (40001) by aborting one side; the
// work is safe to redo because the transaction rolled back whole.
const RETRYABLE = ['40P01', '40001', 'P2034'];
const ATTEMPTS = 5;

/** Runs `work` in one transaction, redoing it when Postgres aborted it to break a deadlock. */
export async function inTransaction<T>(db: Db, options: TxOptions, work: (tx: Tx) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.$transaction(work, { maxWait: options.timeoutMs, timeout: options.timeoutMs });
    } catch (error) {
      if (attempt >= ATTEMPTS || !isRetryable(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt));
    }
  }
}

function isRetryable(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 5; depth++) {
    const fields = e as { code?: unknown; meta?: { code?: unknown }; cause?: unknown; message?: unknown };
    const codes = [fields.code, fields.meta?.code];
    if (codes.some((code) => typeof code === 'string' && RETRYABLE.includes(code))) return true;
    if (typeof fields.message === 'string' && /deadlock detected|could not serialize/.test(fields.message)) {
      return true;
    }
    e = fields.cause;
  }
  return false;
}

/** The database's clock now; every time the scheduler writes comes from it, never a process clock. */
export async function dbNow(tx: Tx | Db): Promise<Date> {
  const [row] = await tx.$queryRaw<{ now: Date }[]>`SELECT clock_timestamp() AS now`;
  if (!row) throw new Error('clock_timestamp() returned no row');
  return row.now;
}
