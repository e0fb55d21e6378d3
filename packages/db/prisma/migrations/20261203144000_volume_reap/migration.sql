-- CreateTable
CREATE TABLE "VolumeReap" (
    "volumeId" UUID NOT NULL,
    "workspaceId" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "nodeId" TEXT,
    "deletedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastError" TEXT,

    CONSTRAINT "VolumeReap_pkey" PRIMARY KEY ("volumeId")
);

-- CreateIndex
CREATE INDEX "VolumeReap_nodeId_idx" ON "VolumeReap"("nodeId");

-- AddForeignKey
ALTER TABLE "VolumeReap" ADD CONSTRAINT "VolumeReap_nodeId_fkey" FOREIGN KEY ("nodeId") REFERENCES "Node"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
