-- AlterTable
ALTER TABLE "Workspace" ADD COLUMN "endpointCount" INTEGER NOT NULL DEFAULT 0;

-- The endpoints each workspace already holds.
UPDATE "Workspace" w SET "endpointCount" = c.n
FROM (SELECT "workspaceId", count(*)::int AS n FROM "Endpoint" GROUP BY "workspaceId") c
WHERE c."workspaceId" = w.id;
