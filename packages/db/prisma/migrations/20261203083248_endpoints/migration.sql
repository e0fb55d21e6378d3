-- CreateTable
CREATE TABLE "Endpoint" (
    "id" UUID NOT NULL,
    "workspaceId" UUID NOT NULL,
    "label" TEXT NOT NULL,
    "public" BOOLEAN NOT NULL DEFAULT false,
    "cpu" DOUBLE PRECISION NOT NULL DEFAULT 1,
    "memoryMiB" INTEGER NOT NULL DEFAULT 2048,
    "gpuRequest" TEXT[],
    "minReplicas" INTEGER NOT NULL DEFAULT 0,
    "maxReplicas" INTEGER NOT NULL DEFAULT 4,
    "bufferReplicas" INTEGER NOT NULL DEFAULT 0,
    "scaleDownSeconds" INTEGER NOT NULL DEFAULT 60,
    "targetConcurrency" INTEGER NOT NULL DEFAULT 1,
    "timeoutSeconds" INTEGER NOT NULL DEFAULT 150,
    "queueLimit" INTEGER NOT NULL DEFAULT 64,
    "liveVersionId" UUID,
    "createdById" UUID,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Endpoint_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "EndpointVersion" (
    "id" UUID NOT NULL,
    "endpointId" UUID NOT NULL,
    "number" INTEGER NOT NULL,
    "functionName" TEXT NOT NULL,
    "source" TEXT NOT NULL,
    "originKind" TEXT NOT NULL,
    "originId" UUID,
    "originCellId" TEXT,
    "dependencies" JSONB NOT NULL,
    "parameters" JSONB NOT NULL,
    "sampleInput" JSONB NOT NULL,
    "smokeStatus" TEXT NOT NULL DEFAULT 'pending',
    "smokeResult" JSONB,
    "smokeError" TEXT,
    "createdById" UUID,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "EndpointVersion_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "EndpointToken" (
    "id" UUID NOT NULL,
    "endpointId" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "tokenHash" TEXT NOT NULL,
    "createdById" UUID,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastUsedAt" TIMESTAMP(3),
    "revokedAt" TIMESTAMP(3),

    CONSTRAINT "EndpointToken_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "EndpointRequest" (
    "id" UUID NOT NULL,
    "endpointId" UUID NOT NULL,
    "workspaceId" UUID NOT NULL,
    "versionId" UUID,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "method" TEXT NOT NULL,
    "status" INTEGER NOT NULL,
    "latencyMs" INTEGER NOT NULL,
    "replicaId" TEXT,
    "costNanos" BIGINT NOT NULL DEFAULT 0,
    "error" TEXT,

    CONSTRAINT "EndpointRequest_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Endpoint_workspaceId_label_key" ON "Endpoint"("workspaceId", "label");

-- CreateIndex
CREATE UNIQUE INDEX "EndpointVersion_endpointId_number_key" ON "EndpointVersion"("endpointId", "number");

-- CreateIndex
CREATE UNIQUE INDEX "EndpointToken_tokenHash_key" ON "EndpointToken"("tokenHash");

-- CreateIndex
CREATE INDEX "EndpointToken_endpointId_idx" ON "EndpointToken"("endpointId");

-- CreateIndex
CREATE INDEX "EndpointRequest_endpointId_at_idx" ON "EndpointRequest"("endpointId", "at");

-- CreateIndex
CREATE INDEX "EndpointRequest_workspaceId_at_idx" ON "EndpointRequest"("workspaceId", "at");

-- AddForeignKey
ALTER TABLE "Endpoint" ADD CONSTRAINT "Endpoint_workspaceId_fkey" FOREIGN KEY ("workspaceId") REFERENCES "Workspace"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "EndpointVersion" ADD CONSTRAINT "EndpointVersion_endpointId_fkey" FOREIGN KEY ("endpointId") REFERENCES "Endpoint"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "EndpointToken" ADD CONSTRAINT "EndpointToken_endpointId_fkey" FOREIGN KEY ("endpointId") REFERENCES "Endpoint"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "EndpointRequest" ADD CONSTRAINT "EndpointRequest_endpointId_fkey" FOREIGN KEY ("endpointId") REFERENCES "Endpoint"("id") ON DELETE CASCADE ON UPDATE CASCADE;
