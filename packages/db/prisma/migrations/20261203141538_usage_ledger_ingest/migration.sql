-- Ledger ingest, cheaper per page (bench/results/billing.md).
-- 1. Indexes: each one is paid on every slice insert and on every close (a close changes "endAt", so
--    it is never a HOT update). (containerId, endAt) is covered by the unique (containerId, startAt),
--    the open-slice lookups (a workspace's running costs, heartbeats, orphan checks) and the resume
--    check of orphaned slices get partial indexes that hold only those few rows.

-- DropIndex
DROP INDEX "UsageSlice_workspaceId_endAt_idx";

-- DropIndex
DROP INDEX "UsageSlice_endAt_heartbeatAt_idx";

-- DropIndex
DROP INDEX "UsageSlice_containerId_endAt_idx";

-- CreateIndex
CREATE INDEX "UsageSlice_workspaceId_idx" ON "UsageSlice"("workspaceId") WHERE ("endAt" IS NULL);

-- CreateIndex
CREATE INDEX "UsageSlice_endAt_idx" ON "UsageSlice"("endAt") WHERE ("endReason" = 'orphaned');

-- 2. The daily rollup reads the statement's transition tables directly, instead of packing every
--    slice into an array that a second function unpacks, and the split into days is a set-returning
--    function in the select list (no tuplestore per slice). JIT is off for these statements: over a
--    transition table the planner guesses a thousand days per slice from generate_series, and with
--    JIT on it compiled each page's rollup (hundreds of milliseconds for a few hundred rows, tried
--    here before this setting). Each slice is still added exactly once: when
--    it is inserted closed, or when its "endAt" goes from NULL to a time. Bodies are E'' strings with
--    semicolons written \073 (the pg adapter of `prisma migrate deploy` splits at every one).
CREATE OR REPLACE FUNCTION "usage_daily_on_insert"() RETURNS trigger LANGUAGE plpgsql SET jit = off AS E'
BEGIN
  INSERT INTO "UsageDaily" AS d ("workspaceId", day, "ownerId", "memberKey", "gpuType", ms, "gpuUnits", "cpuUnits",
    "memUnits", "gpuFemto", "cpuFemto", "memFemto")
  SELECT s."workspaceId", (s.day AT TIME ZONE ''UTC'')::date, s."ownerId", COALESCE(s."memberId"::text, ''''),
    COALESCE(s."gpuType", ''''), sum(s.ms), sum(s."gpuCount" * s.ms),
    sum(GREATEST(s."cpuMillicores", COALESCE((v.prices->>''minimumCpuMillicores'')::int, 0)) * s.ms),
    sum(s."memoryMiB"::bigint * s.ms), sum(s."gpuRateFemto"::numeric * s.ms), sum(s."cpuRateFemto"::numeric * s.ms),
    sum(s."memRateFemto"::numeric * s.ms)
  FROM (
    SELECT d.*, (extract(epoch FROM (LEAST(d."endAt", d.day + interval ''1 day'') - GREATEST(d."startAt", d.day))) * 1000)::bigint AS ms
    FROM (
      SELECT n.*, generate_series(date_trunc(''day'', n."startAt", ''UTC''), n."endAt" - interval ''1 millisecond'', interval ''1 day'') AS day
      FROM new_rows n WHERE n."endAt" IS NOT NULL
    ) d
  ) s
  LEFT JOIN "PriceVersion" v ON v.id = s."priceVersionId"
  WHERE s.ms > 0
  GROUP BY 1, 2, 3, 4, 5
  ON CONFLICT ("workspaceId", day, "ownerId", "memberKey", "gpuType") DO UPDATE SET
    ms = d.ms + EXCLUDED.ms, "gpuUnits" = d."gpuUnits" + EXCLUDED."gpuUnits", "cpuUnits" = d."cpuUnits" + EXCLUDED."cpuUnits",
    "memUnits" = d."memUnits" + EXCLUDED."memUnits", "gpuFemto" = d."gpuFemto" + EXCLUDED."gpuFemto",
    "cpuFemto" = d."cpuFemto" + EXCLUDED."cpuFemto", "memFemto" = d."memFemto" + EXCLUDED."memFemto"\073
  RETURN NULL\073
END ';

-- The same rollup for the slices an UPDATE closed (their "endAt" was NULL before it).
CREATE OR REPLACE FUNCTION "usage_daily_on_close"() RETURNS trigger LANGUAGE plpgsql SET jit = off AS E'
BEGIN
  INSERT INTO "UsageDaily" AS d ("workspaceId", day, "ownerId", "memberKey", "gpuType", ms, "gpuUnits", "cpuUnits",
    "memUnits", "gpuFemto", "cpuFemto", "memFemto")
  SELECT s."workspaceId", (s.day AT TIME ZONE ''UTC'')::date, s."ownerId", COALESCE(s."memberId"::text, ''''),
    COALESCE(s."gpuType", ''''), sum(s.ms), sum(s."gpuCount" * s.ms),
    sum(GREATEST(s."cpuMillicores", COALESCE((v.prices->>''minimumCpuMillicores'')::int, 0)) * s.ms),
    sum(s."memoryMiB"::bigint * s.ms), sum(s."gpuRateFemto"::numeric * s.ms), sum(s."cpuRateFemto"::numeric * s.ms),
    sum(s."memRateFemto"::numeric * s.ms)
  FROM (
    SELECT d.*, (extract(epoch FROM (LEAST(d."endAt", d.day + interval ''1 day'') - GREATEST(d."startAt", d.day))) * 1000)::bigint AS ms
    FROM (
      SELECT n.*, generate_series(date_trunc(''day'', n."startAt", ''UTC''), n."endAt" - interval ''1 millisecond'', interval ''1 day'') AS day
      FROM new_rows n JOIN old_rows o ON o.id = n.id WHERE o."endAt" IS NULL AND n."endAt" IS NOT NULL
    ) d
  ) s
  LEFT JOIN "PriceVersion" v ON v.id = s."priceVersionId"
  WHERE s.ms > 0
  GROUP BY 1, 2, 3, 4, 5
  ON CONFLICT ("workspaceId", day, "ownerId", "memberKey", "gpuType") DO UPDATE SET
    ms = d.ms + EXCLUDED.ms, "gpuUnits" = d."gpuUnits" + EXCLUDED."gpuUnits", "cpuUnits" = d."cpuUnits" + EXCLUDED."cpuUnits",
    "memUnits" = d."memUnits" + EXCLUDED."memUnits", "gpuFemto" = d."gpuFemto" + EXCLUDED."gpuFemto",
    "cpuFemto" = d."cpuFemto" + EXCLUDED."cpuFemto", "memFemto" = d."memFemto" + EXCLUDED."memFemto"\073
  RETURN NULL\073
END ';

DROP FUNCTION "usage_daily_add_slices"("UsageSlice"[]);

-- 3. A ledger consumer's cursor, read once its lock is held: one round trip instead of two. A plpgsql
--    function, so the read takes its snapshot after the lock is granted and sees what the previous
--    holder committed (a lock and a read in one plain statement would share a snapshot taken before
--    the wait).
CREATE FUNCTION "billing_cursor_locked"(cursor_name text, lock_key bigint) RETURNS text LANGUAGE plpgsql AS E'
BEGIN
  PERFORM pg_advisory_xact_lock(lock_key)\073
  RETURN (SELECT c.cursor FROM "BillingCursor" c WHERE c.name = cursor_name)\073
END ';
