-- AlterTable
ALTER TABLE "NotebookKernel" ADD COLUMN     "ownerId" TEXT;

-- CreateTable
CREATE TABLE "WebProcessLease" (
    "id" TEXT NOT NULL,
    "instance" TEXT NOT NULL,
    "startedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "heartbeatAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expiresAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "WebProcessLease_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "WebProcessLease_expiresAt_idx" ON "WebProcessLease"("expiresAt");

-- CreateIndex
CREATE INDEX "NotebookKernel_ownerId_idx" ON "NotebookKernel"("ownerId");
