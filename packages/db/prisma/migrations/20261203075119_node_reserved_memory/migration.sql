-- AlterTable
ALTER TABLE "Node" ADD COLUMN     "reservedMemoryMiB" INTEGER NOT NULL DEFAULT 0;
