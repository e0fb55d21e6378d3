-- CreateTable
CREATE TABLE "NotebookImport" (
    "notebookId" UUID NOT NULL,
    "content" TEXT NOT NULL,
    "canonicalSha256" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "NotebookImport_pkey" PRIMARY KEY ("notebookId")
);

-- AddForeignKey
ALTER TABLE "NotebookImport" ADD CONSTRAINT "NotebookImport_notebookId_fkey" FOREIGN KEY ("notebookId") REFERENCES "Notebook"("id") ON DELETE CASCADE ON UPDATE CASCADE;
