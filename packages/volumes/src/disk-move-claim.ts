import { randomUUID } from 'node:crypto';
import { DomainError } from '@kiln/core';
import type { Db } from '@kiln/db';

/**
 * One move per disk at a time, across web processes: a `DiskMove` row (unique per disk) is the claim.
 * The mover renews its lease while it copies; a claim whose mover died stops being renewed and, once
 * expired, the next move takes it over. The file browser refuses writes while a live claim exists, and
 * marks a claim when one of its writes finished during a move (the move then does not switch).
 */

/** How long a claim lasts without renewal, and how often the mover renews it. */
export const DISK_MOVE_LEASE_MS = 60_000;
export const DISK_MOVE_RENEW_MS = 20_000;

/** The file browser's refusal while a disk is being moved. */
export const DISK_MOVING_MESSAGE = 'This disk is being moved to another node; try again in a moment.';

type Reader = Pick<Db, '$queryRaw'>;
type Writer = Pick<Db, '$queryRaw' | '$executeRaw'>;

/** The row a disk's claim is filed under: its volume's id, or the workspace's for /workspace. */
export interface ClaimedDisk {
  workspaceId: string;
  /** The volume id, or `workspace` for the /workspace folder. */
  volume: string;
}

function diskIdOf(disk: ClaimedDisk): string {
  return disk.volume === 'workspace' ? disk.workspaceId : disk.volume;
}

export interface DiskMoveClaim {
  diskId: string;
  holder: string;
  /** Why the claim was lost (renewal found it taken over), or null while held. */
  readonly lost: string | null;
  /** Stops renewing and deletes the claim if it is still this mover's. */
  release(): Promise<void>;
}

export interface ClaimOptions {
  leaseMs?: number;
  renewMs?: number;
  /** Words for the refusal: "The volume data". */
  label: string;
  toNodeId: string;
  /** The user who asked for the move, shown to others while it runs. */
  startedById?: string | null;
}

/** A move that holds a disk's live claim now: where to, since when, and who started it. */
export interface DiskMoveInProgress {
  toNodeId: string;
  startedAt: Date;
  /** The user's name, or null when not recorded. */
  startedBy: string | null;
}

/** The disk's live move, if one holds its claim (an expired claim's mover is gone: not in progress). */
export async function diskMoveInProgress(db: Reader, disk: ClaimedDisk): Promise<DiskMoveInProgress | null> {
  const [row] = await db.$queryRaw<DiskMoveInProgress[]>`
    SELECT m."toNodeId", m."startedAt", u.name AS "startedBy"
    FROM "DiskMove" m LEFT JOIN "User" u ON u.id = m."startedById"
    WHERE m."diskId" = ${diskIdOf(disk)}::uuid AND m."expiresAt" >= clock_timestamp()`;
  return row ?? null;
}

/**
 * Takes the disk's move claim, or refuses (CONFLICT, `disk_move_in_progress`) while another live move
 * holds it; an expired claim is taken over. Renews it every `renewMs` until released.
 */
export async function claimDiskMove(
  db: Db,
  disk: ClaimedDisk,
  options: ClaimOptions,
): Promise<DiskMoveClaim> {
  const leaseMs = options.leaseMs ?? DISK_MOVE_LEASE_MS;
  const renewMs = options.renewMs ?? DISK_MOVE_RENEW_MS;
  const diskId = diskIdOf(disk);
  const holder = randomUUID();
  const workspaceDisk = disk.volume === 'workspace';
  const taken = await db.$queryRaw<{ holder: string }[]>`
    INSERT INTO "DiskMove" ("diskId", "workspaceId", "workspaceDisk", "toNodeId", holder, "startedById", "startedAt", "expiresAt")
    VALUES (${diskId}::uuid, ${disk.workspaceId}::uuid, ${workspaceDisk}, ${options.toNodeId}, ${holder}::uuid,
      ${options.startedById ?? null}::uuid, clock_timestamp(), clock_timestamp() + ${leaseMs} * interval '1 millisecond')
    ON CONFLICT ("diskId") DO UPDATE SET
      "workspaceId" = EXCLUDED."workspaceId", "workspaceDisk" = EXCLUDED."workspaceDisk",
      "toNodeId" = EXCLUDED."toNodeId", holder = EXCLUDED.holder, "startedById" = EXCLUDED."startedById",
      "startedAt" = EXCLUDED."startedAt",
      "expiresAt" = EXCLUDED."expiresAt", "writtenAt" = NULL
    WHERE "DiskMove"."expiresAt" < clock_timestamp()
    RETURNING holder::text AS holder`;
  if (taken[0]?.holder !== holder) {
    const [other] = await db.$queryRaw<{ toNodeId: string; seconds: number }[]>`
      SELECT "toNodeId", floor(extract(epoch FROM clock_timestamp() - "startedAt"))::int AS seconds
      FROM "DiskMove" WHERE "diskId" = ${diskId}::uuid`;
    throw new DomainError(
      'CONFLICT',
      `${options.label} is already being moved${other ? ` to node ${other.toNodeId} (started ${other.seconds} s ago)` : ''}; wait until that move ends, then try again.`,
      { reason: 'disk_move_in_progress' },
    );
  }
  let lost: string | null = null;
  let renewing: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    renewing = renewing.then(async () => {
      if (lost) return;
      const renewed =
        await db.$executeRaw`UPDATE "DiskMove" SET "expiresAt" = clock_timestamp() + ${leaseMs} * interval '1 millisecond'
          WHERE "diskId" = ${diskId}::uuid AND holder = ${holder}::uuid`.catch(() => null);
      // A failed renewal (the database briefly away) is retried; a missing row means another took over.
      if (renewed === 0) lost = 'its move claim expired and another move took it over';
    });
  }, renewMs);
  timer.unref();
  return {
    diskId,
    holder,
    get lost() {
      return lost;
    },
    async release() {
      clearInterval(timer);
      await renewing;
      await db.$executeRaw`DELETE FROM "DiskMove" WHERE "diskId" = ${diskId}::uuid AND holder = ${holder}::uuid`;
    },
  };
}

/**
 * In the switch's transaction: locks the claim and says why the move must not switch (the claim was
 * taken over, or the file browser finished a write at or after `verifiedFrom`), or null; then deletes
 * it, so file-browser writes blocked on it see the new home.
 */
export async function settleClaim(
  tx: Writer,
  claim: DiskMoveClaim,
  verifiedFrom: Date,
): Promise<string | null> {
  const [row] = await tx.$queryRaw<{ holder: string; writtenAt: Date | null }[]>`
    SELECT holder::text AS holder, "writtenAt" FROM "DiskMove" WHERE "diskId" = ${claim.diskId}::uuid FOR UPDATE`;
  if (!row || row.holder !== claim.holder)
    return 'its move claim expired and another move took it over; nothing was moved';
  if (row.writtenAt && row.writtenAt.getTime() >= verifiedFrom.getTime())
    return 'a file was changed in the file browser while it was being checked; nothing was moved. Try again.';
  await tx.$executeRaw`DELETE FROM "DiskMove" WHERE "diskId" = ${claim.diskId}::uuid AND holder = ${claim.holder}::uuid`;
  return null;
}

/** Whether a live move claim holds the disk (the file browser then refuses writes). */
export async function diskMoving(db: Reader, disk: ClaimedDisk): Promise<boolean> {
  const [row] = await db.$queryRaw<{ moving: boolean }[]>`
    SELECT EXISTS (SELECT 1 FROM "DiskMove" WHERE "diskId" = ${diskIdOf(disk)}::uuid
      AND "workspaceId" = ${disk.workspaceId}::uuid AND "expiresAt" >= clock_timestamp()) AS moving`;
  return row?.moving ?? false;
}

/**
 * A file-browser write to the disk finished: a move that has not switched yet will not (it waits on
 * the claim's lock while one switches, and then finds no claim). Returns whether a claim was marked.
 */
export async function noteDiskWrite(db: Writer, disk: ClaimedDisk): Promise<boolean> {
  const marked = await db.$executeRaw`
    UPDATE "DiskMove" SET "writtenAt" = clock_timestamp()
    WHERE "diskId" = ${diskIdOf(disk)}::uuid AND "workspaceId" = ${disk.workspaceId}::uuid`;
  return marked > 0;
}
