-- AlterTable: what a version's replicas run with besides their machine (image, secrets, volumes)
ALTER TABLE "EndpointVersion" ADD COLUMN     "image" JSONB,
ADD COLUMN     "imageId" UUID,
ADD COLUMN     "secrets" JSONB NOT NULL DEFAULT '[]',
ADD COLUMN     "volumes" JSONB NOT NULL DEFAULT '[]';
