-- CreateTable
CREATE TABLE "NotebookUpdate" (
    "id" BIGSERIAL NOT NULL,
    "notebookId" UUID NOT NULL,
    "data" BYTEA NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "NotebookUpdate_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "NotebookUpdate_notebookId_id_idx" ON "NotebookUpdate"("notebookId", "id");

-- AddForeignKey
ALTER TABLE "NotebookUpdate" ADD CONSTRAINT "NotebookUpdate_notebookId_fkey" FOREIGN KEY ("notebookId") REFERENCES "Notebook"("id") ON DELETE CASCADE ON UPDATE CASCADE;
