-- CreateTable
CREATE TABLE "Volume" (
    "id" UUID NOT NULL,
    "workspaceId" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "createdById" UUID,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Volume_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "NotebookVolume" (
    "notebookId" UUID NOT NULL,
    "volumeId" UUID NOT NULL,
    "readOnly" BOOLEAN NOT NULL DEFAULT false,

    CONSTRAINT "NotebookVolume_pkey" PRIMARY KEY ("notebookId","volumeId")
);

-- CreateIndex
CREATE UNIQUE INDEX "Volume_workspaceId_name_key" ON "Volume"("workspaceId", "name");

-- CreateIndex
CREATE INDEX "NotebookVolume_volumeId_idx" ON "NotebookVolume"("volumeId");

-- AddForeignKey
ALTER TABLE "Volume" ADD CONSTRAINT "Volume_workspaceId_fkey" FOREIGN KEY ("workspaceId") REFERENCES "Workspace"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "NotebookVolume" ADD CONSTRAINT "NotebookVolume_notebookId_fkey" FOREIGN KEY ("notebookId") REFERENCES "Notebook"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "NotebookVolume" ADD CONSTRAINT "NotebookVolume_volumeId_fkey" FOREIGN KEY ("volumeId") REFERENCES "Volume"("id") ON DELETE CASCADE ON UPDATE CASCADE;
