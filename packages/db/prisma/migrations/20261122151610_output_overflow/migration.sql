-- CreateTable
CREATE TABLE "OutputOverflow" (
    "notebookId" UUID NOT NULL,
    "key" TEXT NOT NULL,
    "cellId" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "body" BYTEA NOT NULL,
    "totalBytes" BIGINT NOT NULL,
    "complete" BOOLEAN NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "OutputOverflow_pkey" PRIMARY KEY ("notebookId","key")
);

-- CreateIndex
CREATE INDEX "OutputOverflow_notebookId_updatedAt_idx" ON "OutputOverflow"("notebookId", "updatedAt");

-- AddForeignKey
ALTER TABLE "OutputOverflow" ADD CONSTRAINT "OutputOverflow_notebookId_fkey" FOREIGN KEY ("notebookId") REFERENCES "Notebook"("id") ON DELETE CASCADE ON UPDATE CASCADE;
