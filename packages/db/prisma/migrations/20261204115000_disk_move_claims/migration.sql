-- CreateTable
CREATE TABLE "DiskMove" (
    "diskId" UUID NOT NULL,
    "workspaceId" UUID NOT NULL,
    "workspaceDisk" BOOLEAN NOT NULL DEFAULT false,
    "toNodeId" TEXT NOT NULL,
    "holder" UUID NOT NULL,
    "startedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expiresAt" TIMESTAMPTZ(3) NOT NULL,
    "writtenAt" TIMESTAMPTZ(3),

    CONSTRAINT "DiskMove_pkey" PRIMARY KEY ("diskId")
);

-- CreateIndex
CREATE INDEX "DiskMove_workspaceId_idx" ON "DiskMove"("workspaceId");
