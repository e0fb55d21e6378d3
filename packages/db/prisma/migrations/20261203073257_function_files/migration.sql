-- CreateEnum
CREATE TYPE "NotebookKind" AS ENUM ('notebook', 'function');

-- AlterTable
ALTER TABLE "Notebook" ADD COLUMN     "kind" "NotebookKind" NOT NULL DEFAULT 'notebook';
