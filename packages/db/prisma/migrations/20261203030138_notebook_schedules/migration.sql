-- CreateTable
CREATE TABLE "NotebookSchedule" (
    "id" UUID NOT NULL,
    "workspaceId" UUID NOT NULL,
    "notebookId" UUID NOT NULL,
    "cron" TEXT,
    "timeZone" TEXT NOT NULL DEFAULT 'UTC',
    "periodSeconds" INTEGER,
    "paused" BOOLEAN NOT NULL DEFAULT false,
    "maxRetries" INTEGER NOT NULL DEFAULT 2,
    "retryDelaySeconds" INTEGER NOT NULL DEFAULT 60,
    "nextRunAt" TIMESTAMPTZ(3),
    "createdById" UUID,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "NotebookSchedule_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ScheduleRun" (
    "id" UUID NOT NULL,
    "scheduleId" UUID NOT NULL,
    "tick" TIMESTAMPTZ(3) NOT NULL,
    "status" TEXT NOT NULL,
    "attempt" INTEGER NOT NULL DEFAULT 0,
    "claimedBy" TEXT,
    "leaseUntil" TIMESTAMPTZ(3),
    "nextAttemptAt" TIMESTAMPTZ(3),
    "startedAt" TIMESTAMPTZ(3),
    "finishedAt" TIMESTAMPTZ(3),
    "durationMs" INTEGER,
    "error" TEXT,
    "log" TEXT,
    "versionId" UUID,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ScheduleRun_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "NotebookSchedule_workspaceId_idx" ON "NotebookSchedule"("workspaceId");

-- CreateIndex
CREATE INDEX "NotebookSchedule_paused_nextRunAt_idx" ON "NotebookSchedule"("paused", "nextRunAt");

-- CreateIndex
CREATE INDEX "ScheduleRun_status_nextAttemptAt_idx" ON "ScheduleRun"("status", "nextAttemptAt");

-- CreateIndex
CREATE UNIQUE INDEX "ScheduleRun_scheduleId_tick_key" ON "ScheduleRun"("scheduleId", "tick");

-- AddForeignKey
ALTER TABLE "NotebookSchedule" ADD CONSTRAINT "NotebookSchedule_workspaceId_fkey" FOREIGN KEY ("workspaceId") REFERENCES "Workspace"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "NotebookSchedule" ADD CONSTRAINT "NotebookSchedule_notebookId_fkey" FOREIGN KEY ("notebookId") REFERENCES "Notebook"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ScheduleRun" ADD CONSTRAINT "ScheduleRun_scheduleId_fkey" FOREIGN KEY ("scheduleId") REFERENCES "NotebookSchedule"("id") ON DELETE CASCADE ON UPDATE CASCADE;
