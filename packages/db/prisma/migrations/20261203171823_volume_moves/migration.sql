-- AlterTable
ALTER TABLE "VolumeReap" DROP CONSTRAINT "VolumeReap_pkey",
ADD COLUMN     "id" UUID NOT NULL DEFAULT gen_random_uuid(),
ADD COLUMN     "movedTo" TEXT,
ADD COLUMN     "workspaceDisk" BOOLEAN NOT NULL DEFAULT false,
ADD CONSTRAINT "VolumeReap_pkey" PRIMARY KEY ("id");

-- CreateIndex
CREATE INDEX "VolumeReap_volumeId_idx" ON "VolumeReap"("volumeId");

-- CreateIndex
CREATE INDEX "VolumeReap_workspaceId_idx" ON "VolumeReap"("workspaceId");
