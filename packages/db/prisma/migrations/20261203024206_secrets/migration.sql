-- CreateTable
CREATE TABLE "Secret" (
    "id" UUID NOT NULL,
    "workspaceId" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "keys" TEXT[],
    "ciphertext" BYTEA NOT NULL,
    "keyId" TEXT NOT NULL,
    "createdById" UUID,
    "updatedById" UUID,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Secret_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "NotebookSecret" (
    "notebookId" UUID NOT NULL,
    "secretId" UUID NOT NULL,
    "position" INTEGER NOT NULL,

    CONSTRAINT "NotebookSecret_pkey" PRIMARY KEY ("notebookId","secretId")
);

-- CreateIndex
CREATE UNIQUE INDEX "Secret_workspaceId_name_key" ON "Secret"("workspaceId", "name");

-- CreateIndex
CREATE INDEX "NotebookSecret_secretId_idx" ON "NotebookSecret"("secretId");

-- AddForeignKey
ALTER TABLE "Secret" ADD CONSTRAINT "Secret_workspaceId_fkey" FOREIGN KEY ("workspaceId") REFERENCES "Workspace"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "NotebookSecret" ADD CONSTRAINT "NotebookSecret_notebookId_fkey" FOREIGN KEY ("notebookId") REFERENCES "Notebook"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "NotebookSecret" ADD CONSTRAINT "NotebookSecret_secretId_fkey" FOREIGN KEY ("secretId") REFERENCES "Secret"("id") ON DELETE CASCADE ON UPDATE CASCADE;
