-- AlterTable
ALTER TABLE "Notebook" ADD COLUMN     "imageId" UUID;

-- CreateTable
CREATE TABLE "WorkspaceImage" (
    "id" UUID NOT NULL,
    "workspaceId" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "debian" TEXT[],
    "python" TEXT[],
    "buildKey" TEXT,
    "buildState" TEXT NOT NULL DEFAULT 'building',
    "buildError" TEXT,
    "buildLog" TEXT,
    "builtDebian" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "builtPython" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "builtKey" TEXT,
    "builtAt" TIMESTAMP(3),
    "sizeBytes" BIGINT,
    "createdById" UUID,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "WorkspaceImage_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "WorkspaceImage_workspaceId_name_key" ON "WorkspaceImage"("workspaceId", "name");

-- AddForeignKey
ALTER TABLE "Notebook" ADD CONSTRAINT "Notebook_imageId_fkey" FOREIGN KEY ("imageId") REFERENCES "WorkspaceImage"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "WorkspaceImage" ADD CONSTRAINT "WorkspaceImage_workspaceId_fkey" FOREIGN KEY ("workspaceId") REFERENCES "Workspace"("id") ON DELETE CASCADE ON UPDATE CASCADE;
