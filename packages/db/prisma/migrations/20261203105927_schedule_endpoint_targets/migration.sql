-- AlterTable
ALTER TABLE "NotebookSchedule" ADD COLUMN     "args" JSONB,
ADD COLUMN     "endpointId" UUID,
ALTER COLUMN "notebookId" DROP NOT NULL;

-- AlterTable
ALTER TABLE "ScheduleRun" ADD COLUMN     "costNanos" BIGINT,
ADD COLUMN     "requestId" UUID,
ADD COLUMN     "result" TEXT;

-- AlterTable
ALTER TABLE "EndpointRequest" ADD COLUMN     "scheduleId" UUID;

-- CreateIndex
CREATE INDEX "NotebookSchedule_endpointId_idx" ON "NotebookSchedule"("endpointId");

-- AddForeignKey
ALTER TABLE "NotebookSchedule" ADD CONSTRAINT "NotebookSchedule_endpointId_fkey" FOREIGN KEY ("endpointId") REFERENCES "Endpoint"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- A schedule runs exactly one thing: a notebook or an endpoint (Prisma cannot say this in the schema).
ALTER TABLE "NotebookSchedule" ADD CONSTRAINT "NotebookSchedule_one_target" CHECK (num_nonnulls("notebookId", "endpointId") = 1);
