-- AlterTable
ALTER TABLE "Container" ADD COLUMN     "mountsWorkspace" BOOLEAN NOT NULL DEFAULT false;

-- CreateTable
CREATE TABLE "WorkspaceDisk" (
    "workspaceId" UUID NOT NULL,
    "nodeId" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "WorkspaceDisk_pkey" PRIMARY KEY ("workspaceId")
);

-- CreateIndex
CREATE INDEX "WorkspaceDisk_nodeId_idx" ON "WorkspaceDisk"("nodeId");

-- AddForeignKey
ALTER TABLE "WorkspaceDisk" ADD CONSTRAINT "WorkspaceDisk_workspaceId_fkey" FOREIGN KEY ("workspaceId") REFERENCES "Workspace"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "WorkspaceDisk" ADD CONSTRAINT "WorkspaceDisk_nodeId_fkey" FOREIGN KEY ("nodeId") REFERENCES "Node"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
