-- The Stripe rollup reads only what it has not sent: each slice records how far its usage was rolled
-- up, and a partial index holds the slices with something left (open ones, and those closed since the
-- last run), so a run no longer scans the whole ledger, and a slice that opens or closes after its
-- minutes were rolled up is still sent, once.

-- AlterTable: existing rows start as done (a metadata-only change), new rows as not done.
ALTER TABLE "UsageSlice" ADD COLUMN     "rolledUntil" TIMESTAMPTZ(3),
ADD COLUMN     "rollupDone" BOOLEAN NOT NULL DEFAULT true;
ALTER TABLE "UsageSlice" ALTER COLUMN "rollupDone" SET DEFAULT false;

-- What the previous rollup (a single time watermark) had not reached yet is still to send. Without a
-- watermark it would have started an hour back.
UPDATE "UsageSlice" s SET "rollupDone" = false,
  "rolledUntil" = GREATEST(s."startAt", w.at)
FROM (SELECT COALESCE((SELECT to_timestamp(c.cursor::bigint / 1000.0) FROM "BillingCursor" c WHERE c.name = 'usage-rollup'),
                      now() - interval '1 hour') AS at) w
WHERE s."endAt" IS NULL OR s."endAt" > w.at;

-- CreateIndex
CREATE INDEX "UsageSlice_startAt_idx" ON "UsageSlice"("startAt") WHERE ("rollupDone" = false);
