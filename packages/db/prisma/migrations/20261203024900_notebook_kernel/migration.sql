-- CreateTable
CREATE TABLE "NotebookKernel" (
    "notebookId" UUID NOT NULL,
    "workspaceId" UUID NOT NULL,
    "gatewayUrl" TEXT NOT NULL,
    "kernelId" TEXT NOT NULL,
    "sessionId" TEXT NOT NULL,
    "running" JSONB,
    "queue" JSONB NOT NULL DEFAULT '[]',
    "resources" JSONB,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "NotebookKernel_pkey" PRIMARY KEY ("notebookId")
);

-- AddForeignKey
ALTER TABLE "NotebookKernel" ADD CONSTRAINT "NotebookKernel_notebookId_fkey" FOREIGN KEY ("notebookId") REFERENCES "Notebook"("id") ON DELETE CASCADE ON UPDATE CASCADE;
