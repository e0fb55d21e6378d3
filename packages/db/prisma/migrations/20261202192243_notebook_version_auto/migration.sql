-- AlterTable
ALTER TABLE "NotebookVersion" ADD COLUMN     "auto" BOOLEAN NOT NULL DEFAULT false;
