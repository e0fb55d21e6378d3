-- The daily rollup is written once per statement instead of once per slice: a page of the meter's
-- ledger ingest (thousands of slices in one INSERT or UPDATE) becomes one grouped upsert into
-- "UsageDaily". Each slice is still added exactly once: when it is inserted closed, or when its
-- "endAt" goes from NULL to a time. Function bodies have no literal semicolons (E'' strings with
-- \073), since the pg adapter of `prisma migrate deploy` splits scripts at every one.

DROP TRIGGER "UsageSlice_daily_on_close" ON "UsageSlice";
DROP TRIGGER "UsageSlice_daily_on_insert" ON "UsageSlice";
DROP FUNCTION "usage_daily_add"();

-- Adds closed slices to the rollup: each UTC day a slice spans gets its share, grouped per row of
-- "UsageDaily" so one statement never touches the same row twice.
CREATE FUNCTION "usage_daily_add_slices"(slices "UsageSlice"[]) RETURNS void LANGUAGE sql AS E'
  INSERT INTO "UsageDaily" AS d ("workspaceId", day, "ownerId", "memberKey", "gpuType", ms, "gpuUnits", "cpuUnits",
    "memUnits", "gpuFemto", "cpuFemto", "memFemto")
  SELECT s."workspaceId", (p.day AT TIME ZONE ''UTC'')::date, s."ownerId", COALESCE(s."memberId"::text, ''''),
    COALESCE(s."gpuType", ''''), sum(p.ms), sum(s."gpuCount" * p.ms),
    sum(GREATEST(s."cpuMillicores", COALESCE((v.prices->>''minimumCpuMillicores'')::int, 0)) * p.ms),
    sum(s."memoryMiB"::bigint * p.ms), sum(s."gpuRateFemto"::numeric * p.ms), sum(s."cpuRateFemto"::numeric * p.ms),
    sum(s."memRateFemto"::numeric * p.ms)
  FROM unnest(slices) s
  LEFT JOIN "PriceVersion" v ON v.id = s."priceVersionId"
  CROSS JOIN LATERAL (
    SELECT g AS day, GREATEST(0, (extract(epoch FROM (LEAST(s."endAt", g + interval ''1 day'') - GREATEST(s."startAt", g))) * 1000)::bigint) AS ms
    FROM generate_series(date_trunc(''day'', s."startAt", ''UTC''), s."endAt" - interval ''1 millisecond'', interval ''1 day'') g
  ) p
  WHERE p.ms > 0
  GROUP BY 1, 2, 3, 4, 5
  ON CONFLICT ("workspaceId", day, "ownerId", "memberKey", "gpuType") DO UPDATE SET
    ms = d.ms + EXCLUDED.ms, "gpuUnits" = d."gpuUnits" + EXCLUDED."gpuUnits", "cpuUnits" = d."cpuUnits" + EXCLUDED."cpuUnits",
    "memUnits" = d."memUnits" + EXCLUDED."memUnits", "gpuFemto" = d."gpuFemto" + EXCLUDED."gpuFemto",
    "cpuFemto" = d."cpuFemto" + EXCLUDED."cpuFemto", "memFemto" = d."memFemto" + EXCLUDED."memFemto"
';

CREATE FUNCTION "usage_daily_on_insert"() RETURNS trigger LANGUAGE plpgsql AS E'
BEGIN
  PERFORM "usage_daily_add_slices"(array_agg(ROW(n.*)::"UsageSlice")) FROM new_rows n WHERE n."endAt" IS NOT NULL HAVING count(*) > 0\073
  RETURN NULL\073
END ';

CREATE FUNCTION "usage_daily_on_close"() RETURNS trigger LANGUAGE plpgsql AS E'
BEGIN
  PERFORM "usage_daily_add_slices"(array_agg(ROW(n.*)::"UsageSlice")) FROM new_rows n JOIN old_rows o ON o.id = n.id
    WHERE o."endAt" IS NULL AND n."endAt" IS NOT NULL HAVING count(*) > 0\073
  RETURN NULL\073
END ';

-- Transition tables cannot go with a column list (UPDATE OF "endAt"): heartbeat updates fire it too
-- and add nothing, since their slices stay open.
CREATE TRIGGER "UsageSlice_daily_on_insert" AFTER INSERT ON "UsageSlice"
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "usage_daily_on_insert"();
CREATE TRIGGER "UsageSlice_daily_on_close" AFTER UPDATE ON "UsageSlice"
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "usage_daily_on_close"();
