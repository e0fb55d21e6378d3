-- CreateEnum
CREATE TYPE "ContainerKind" AS ENUM ('kernel', 'endpoint_replica', 'sandbox');

-- CreateEnum
CREATE TYPE "ContainerState" AS ENUM ('queued', 'starting', 'running', 'hibernated', 'stopped', 'lost');

-- CreateEnum
CREATE TYPE "NodeState" AS ENUM ('active', 'lost');

-- CreateEnum
CREATE TYPE "GpuInventorySource" AS ENUM ('nvidia_smi', 'declared', 'none');

-- CreateTable
CREATE TABLE "Node" (
    "id" TEXT NOT NULL,
    "url" TEXT NOT NULL,
    "cpu" DOUBLE PRECISION NOT NULL,
    "memoryMiB" INTEGER NOT NULL,
    "gpuSource" "GpuInventorySource" NOT NULL,
    "gpuNote" TEXT,
    "state" "NodeState" NOT NULL DEFAULT 'active',
    "registeredAt" TIMESTAMPTZ(3) NOT NULL,
    "heartbeatAt" TIMESTAMPTZ(3) NOT NULL,
    "lostAt" TIMESTAMPTZ(3),
    "lostReason" TEXT,

    CONSTRAINT "Node_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "NodeGpu" (
    "nodeId" TEXT NOT NULL,
    "index" INTEGER NOT NULL,
    "uuid" TEXT NOT NULL,
    "productName" TEXT NOT NULL,
    "type" TEXT,
    "memoryMiB" INTEGER NOT NULL,
    "containerId" UUID,

    CONSTRAINT "NodeGpu_pkey" PRIMARY KEY ("nodeId","index")
);

-- CreateTable
CREATE TABLE "Container" (
    "id" UUID NOT NULL,
    "workspaceId" UUID NOT NULL,
    "kind" "ContainerKind" NOT NULL,
    "ownerId" TEXT NOT NULL,
    "requestedById" UUID,
    "cpu" DOUBLE PRECISION NOT NULL,
    "memoryMiB" INTEGER NOT NULL,
    "gpuRequest" TEXT[],
    "state" "ContainerState" NOT NULL,
    "nodeId" TEXT,
    "gpuType" TEXT,
    "gpuIndices" INTEGER[],
    "reservedGpus" INTEGER NOT NULL DEFAULT 0,
    "pinnedNodeId" TEXT,
    "fairTag" DOUBLE PRECISION,
    "queueDeadlineAt" TIMESTAMPTZ(3),
    "requestedAt" TIMESTAMPTZ(3) NOT NULL,
    "queuedAt" TIMESTAMPTZ(3),
    "startedAt" TIMESTAMPTZ(3),
    "runningAt" TIMESTAMPTZ(3),
    "hibernatedAt" TIMESTAMPTZ(3),
    "endedAt" TIMESTAMPTZ(3),
    "stateChangedAt" TIMESTAMPTZ(3) NOT NULL,
    "stopCode" TEXT,
    "stopReason" TEXT,
    "eventSeq" INTEGER NOT NULL,

    CONSTRAINT "Container_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ContainerEvent" (
    "id" BIGSERIAL NOT NULL,
    "txId" BIGINT NOT NULL DEFAULT ((pg_current_xact_id())::text)::bigint,
    "containerId" UUID NOT NULL,
    "seq" INTEGER NOT NULL,
    "workspaceId" UUID NOT NULL,
    "kind" "ContainerKind" NOT NULL,
    "ownerId" TEXT NOT NULL,
    "requestedById" UUID,
    "fromState" "ContainerState",
    "toState" "ContainerState" NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL,
    "nodeId" TEXT,
    "gpuType" TEXT,
    "gpuCount" INTEGER NOT NULL,
    "gpuIndices" INTEGER[],
    "cpu" DOUBLE PRECISION NOT NULL,
    "memoryMiB" INTEGER NOT NULL,
    "code" TEXT,
    "reason" TEXT,

    CONSTRAINT "ContainerEvent_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "NodeGpu_containerId_idx" ON "NodeGpu"("containerId");

-- CreateIndex
CREATE INDEX "Container_workspaceId_state_idx" ON "Container"("workspaceId", "state");

-- CreateIndex
CREATE INDEX "Container_nodeId_state_idx" ON "Container"("nodeId", "state");

-- CreateIndex
CREATE INDEX "Container_state_queuedAt_idx" ON "Container"("state", "queuedAt");

-- CreateIndex
CREATE INDEX "Container_ownerId_idx" ON "Container"("ownerId");

-- CreateIndex
CREATE INDEX "Container_fairTag_idx" ON "Container"("fairTag");

-- CreateIndex
CREATE INDEX "ContainerEvent_txId_id_idx" ON "ContainerEvent"("txId", "id");

-- CreateIndex
CREATE UNIQUE INDEX "ContainerEvent_containerId_seq_key" ON "ContainerEvent"("containerId", "seq");

-- AddForeignKey
ALTER TABLE "NodeGpu" ADD CONSTRAINT "NodeGpu_nodeId_fkey" FOREIGN KEY ("nodeId") REFERENCES "Node"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "NodeGpu" ADD CONSTRAINT "NodeGpu_containerId_fkey" FOREIGN KEY ("containerId") REFERENCES "Container"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Container" ADD CONSTRAINT "Container_workspaceId_fkey" FOREIGN KEY ("workspaceId") REFERENCES "Workspace"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Container" ADD CONSTRAINT "Container_nodeId_fkey" FOREIGN KEY ("nodeId") REFERENCES "Node"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ContainerEvent" ADD CONSTRAINT "ContainerEvent_containerId_fkey" FOREIGN KEY ("containerId") REFERENCES "Container"("id") ON DELETE CASCADE ON UPDATE CASCADE;
