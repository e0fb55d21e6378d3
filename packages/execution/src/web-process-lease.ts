import { randomUUID } from 'node:crypto';
import type { Db } from '@kiln/db';

export interface WebProcessLeaseOptions {
  /** Stable across restarts of the same process (its kernels stay its own); unique among live processes. */
  id: string;
  /** How long the process counts as alive after its last heartbeat (default 30 s). */
  ttlMs?: number;
  /** How often it says so (default a third of `ttlMs`). */
  heartbeatMs?: number;
  onError?: (error: unknown) => void;
}

/** A web process's claim to be alive, in Postgres: kernels it drives are keyed by its id. */
export interface WebProcessLease {
  readonly id: string;
  /** Writes (or takes over) the lease row and starts heartbeating. */
  start(): Promise<void>;
  /** Renews the lease now. */
  heartbeat(): Promise<void>;
  /** Stops heartbeating; `release` deletes the row so others may take its kernels at once. */
  stop(options?: { release?: boolean }): Promise<void>;
}

/**
 * Leases use the database's clock only (`now()`), so processes on hosts whose clocks disagree still agree
 * on which lease ran out. Timestamps are stored in UTC like Prisma's.
 */
export function createWebProcessLease(db: Db, options: WebProcessLeaseOptions): WebProcessLease {
  const ttlMs = options.ttlMs ?? 30_000;
  const heartbeatMs = options.heartbeatMs ?? Math.max(1000, Math.floor(ttlMs / 3));
  const instance = randomUUID();
  const { id } = options;
  let timer: NodeJS.Timeout | undefined;
  let beating: Promise<void> | null = null;

  const renew = async () => {
    // A restart of this process (same id) takes the row over from its dead predecessor at once.
    await db.$executeRaw`
      INSERT INTO "WebProcessLease" ("id", "instance", "startedAt", "heartbeatAt", "expiresAt")
      VALUES (${id}, ${instance}, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC',
              now() AT TIME ZONE 'UTC' + ${ttlMs} * interval '1 millisecond')
      ON CONFLICT ("id") DO UPDATE SET
        "instance" = EXCLUDED."instance",
        "startedAt" = CASE WHEN "WebProcessLease"."instance" = EXCLUDED."instance"
                           THEN "WebProcessLease"."startedAt" ELSE EXCLUDED."startedAt" END,
        "heartbeatAt" = EXCLUDED."heartbeatAt",
        "expiresAt" = EXCLUDED."expiresAt"`;
  };

  return {
    id,
    async start() {
      await renew();
      timer = setInterval(() => {
        if (beating) return;
        beating = renew()
          .catch((error: unknown) => options.onError?.(error))
          .finally(() => {
            beating = null;
          });
      }, heartbeatMs);
      timer.unref();
    },
    heartbeat: renew,
    async stop(stopOptions = {}) {
      if (timer) clearInterval(timer);
      timer = undefined;
      await beating;
      if (stopOptions.release)
        await db.$executeRaw`DELETE FROM "WebProcessLease" WHERE "id" = ${id} AND "instance" = ${instance}`;
    },
  };
}
