-- AlterTable
ALTER TABLE "Container" ADD COLUMN     "volumeIds" UUID[] DEFAULT ARRAY[]::UUID[];

-- AlterTable
ALTER TABLE "Volume" ADD COLUMN     "nodeId" TEXT;

-- AddForeignKey
ALTER TABLE "Volume" ADD CONSTRAINT "Volume_nodeId_fkey" FOREIGN KEY ("nodeId") REFERENCES "Node"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
