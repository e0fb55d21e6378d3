-- AlterTable
ALTER TABLE "Notebook" ADD COLUMN     "cpu" DOUBLE PRECISION NOT NULL DEFAULT 1,
ADD COLUMN     "gpu" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN     "memoryMiB" INTEGER NOT NULL DEFAULT 2048;

-- CreateTable
CREATE TABLE "NotebookVersion" (
    "id" UUID NOT NULL,
    "notebookId" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "snapshot" BYTEA NOT NULL,
    "createdById" UUID,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "NotebookVersion_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "NotebookVersion_notebookId_createdAt_idx" ON "NotebookVersion"("notebookId", "createdAt");

-- AddForeignKey
ALTER TABLE "NotebookVersion" ADD CONSTRAINT "NotebookVersion_notebookId_fkey" FOREIGN KEY ("notebookId") REFERENCES "Notebook"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "NotebookVersion" ADD CONSTRAINT "NotebookVersion_createdById_fkey" FOREIGN KEY ("createdById") REFERENCES "User"("id") ON DELETE SET NULL ON UPDATE CASCADE;
