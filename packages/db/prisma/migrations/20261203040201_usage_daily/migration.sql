-- CreateTable
CREATE TABLE "UsageDaily" (
    "workspaceId" UUID NOT NULL,
    "day" DATE NOT NULL,
    "ownerId" TEXT NOT NULL,
    "memberKey" TEXT NOT NULL,
    "gpuType" TEXT NOT NULL,
    "ms" BIGINT NOT NULL,
    "gpuUnits" BIGINT NOT NULL,
    "cpuUnits" BIGINT NOT NULL,
    "memUnits" BIGINT NOT NULL,
    "gpuFemto" DECIMAL(38,0) NOT NULL,
    "cpuFemto" DECIMAL(38,0) NOT NULL,
    "memFemto" DECIMAL(38,0) NOT NULL,

    CONSTRAINT "UsageDaily_pkey" PRIMARY KEY ("workspaceId","day","ownerId","memberKey","gpuType")
);

-- The body is an E'' string with its semicolons written \073: `prisma migrate deploy` (through the pg
-- adapter) splits a migration at every semicolon, dollar quotes included.
-- A slice is added to the daily rollup once: when it closes (endAt goes from NULL to a time) or is
-- inserted already closed. Each UTC day it spans gets its share of milliseconds, units and cost.
CREATE FUNCTION "usage_daily_add"() RETURNS trigger LANGUAGE plpgsql AS E'
BEGIN
  INSERT INTO "UsageDaily" AS d ("workspaceId", day, "ownerId", "memberKey", "gpuType", ms, "gpuUnits", "cpuUnits",
    "memUnits", "gpuFemto", "cpuFemto", "memFemto")
  SELECT NEW."workspaceId", (p.day AT TIME ZONE ''UTC'')::date, NEW."ownerId", COALESCE(NEW."memberId"::text, ''''),
    COALESCE(NEW."gpuType", ''''), p.ms, NEW."gpuCount" * p.ms,
    GREATEST(NEW."cpuMillicores", COALESCE((SELECT (v.prices->>''minimumCpuMillicores'')::int FROM "PriceVersion" v
      WHERE v.id = NEW."priceVersionId"), 0)) * p.ms,
    NEW."memoryMiB"::bigint * p.ms, NEW."gpuRateFemto"::numeric * p.ms, NEW."cpuRateFemto"::numeric * p.ms,
    NEW."memRateFemto"::numeric * p.ms
  FROM (
    SELECT g AS day, GREATEST(0, (extract(epoch FROM (LEAST(NEW."endAt", g + interval ''1 day'') - GREATEST(NEW."startAt", g))) * 1000)::bigint) AS ms
    FROM generate_series(date_trunc(''day'', NEW."startAt", ''UTC''), NEW."endAt" - interval ''1 millisecond'', interval ''1 day'') g
  ) p
  WHERE p.ms > 0
  ON CONFLICT ("workspaceId", day, "ownerId", "memberKey", "gpuType") DO UPDATE SET
    ms = d.ms + EXCLUDED.ms, "gpuUnits" = d."gpuUnits" + EXCLUDED."gpuUnits", "cpuUnits" = d."cpuUnits" + EXCLUDED."cpuUnits",
    "memUnits" = d."memUnits" + EXCLUDED."memUnits", "gpuFemto" = d."gpuFemto" + EXCLUDED."gpuFemto",
    "cpuFemto" = d."cpuFemto" + EXCLUDED."cpuFemto", "memFemto" = d."memFemto" + EXCLUDED."memFemto"\073
  RETURN NULL\073
END ';

CREATE TRIGGER "UsageSlice_daily_on_close" AFTER UPDATE OF "endAt" ON "UsageSlice"
  FOR EACH ROW WHEN (OLD."endAt" IS NULL AND NEW."endAt" IS NOT NULL) EXECUTE FUNCTION "usage_daily_add"();
CREATE TRIGGER "UsageSlice_daily_on_insert" AFTER INSERT ON "UsageSlice"
  FOR EACH ROW WHEN (NEW."endAt" IS NOT NULL) EXECUTE FUNCTION "usage_daily_add"();
