-- CreateTable
CREATE TABLE "PriceVersion" (
    "id" SERIAL NOT NULL,
    "effectiveFrom" TIMESTAMPTZ(3) NOT NULL,
    "prices" JSONB NOT NULL,
    "note" TEXT,
    "createdById" UUID,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "PriceVersion_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "UsageSlice" (
    "id" TEXT NOT NULL,
    "workspaceId" UUID NOT NULL,
    "containerId" UUID NOT NULL,
    "periodSeq" INTEGER NOT NULL,
    "kind" "ContainerKind" NOT NULL,
    "ownerId" TEXT NOT NULL,
    "memberId" UUID,
    "nodeId" TEXT,
    "gpuType" TEXT,
    "gpuCount" INTEGER NOT NULL,
    "cpuMillicores" INTEGER NOT NULL,
    "memoryMiB" INTEGER NOT NULL,
    "priceVersionId" INTEGER NOT NULL,
    "gpuRateFemto" BIGINT NOT NULL,
    "cpuRateFemto" BIGINT NOT NULL,
    "memRateFemto" BIGINT NOT NULL,
    "startAt" TIMESTAMPTZ(3) NOT NULL,
    "heartbeatAt" TIMESTAMPTZ(3) NOT NULL,
    "endAt" TIMESTAMPTZ(3),
    "endReason" TEXT,

    CONSTRAINT "UsageSlice_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "BillingCursor" (
    "name" TEXT NOT NULL,
    "cursor" TEXT NOT NULL,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "BillingCursor_pkey" PRIMARY KEY ("name")
);

-- CreateTable
CREATE TABLE "BillingAccount" (
    "workspaceId" UUID NOT NULL,
    "stripeCustomerId" TEXT,
    "stripeSubscriptionId" TEXT,
    "subscriptionStatus" TEXT,
    "hasPaymentMethod" BOOLEAN NOT NULL DEFAULT false,
    "pastDue" BOOLEAN NOT NULL DEFAULT false,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "BillingAccount_pkey" PRIMARY KEY ("workspaceId")
);

-- CreateTable
CREATE TABLE "CreditGrant" (
    "id" TEXT NOT NULL,
    "workspaceId" UUID NOT NULL,
    "amountMicros" BIGINT NOT NULL,
    "source" TEXT NOT NULL,
    "note" TEXT,
    "effectiveAt" TIMESTAMPTZ(3) NOT NULL,
    "expiresAt" TIMESTAMPTZ(3) NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "CreditGrant_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Budget" (
    "workspaceId" UUID NOT NULL,
    "amountMicros" BIGINT NOT NULL,
    "hardCap" BOOLEAN NOT NULL DEFAULT false,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "Budget_pkey" PRIMARY KEY ("workspaceId")
);

-- CreateTable
CREATE TABLE "BillingAlert" (
    "id" TEXT NOT NULL,
    "workspaceId" UUID NOT NULL,
    "kind" TEXT NOT NULL,
    "message" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "emailedAt" TIMESTAMPTZ(3),

    CONSTRAINT "BillingAlert_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "PriceVersion_effectiveFrom_idx" ON "PriceVersion"("effectiveFrom");

-- CreateIndex
CREATE INDEX "UsageSlice_workspaceId_startAt_idx" ON "UsageSlice"("workspaceId", "startAt");

-- CreateIndex
CREATE INDEX "UsageSlice_workspaceId_endAt_idx" ON "UsageSlice"("workspaceId", "endAt");

-- CreateIndex
CREATE INDEX "UsageSlice_endAt_heartbeatAt_idx" ON "UsageSlice"("endAt", "heartbeatAt");

-- CreateIndex
CREATE INDEX "UsageSlice_containerId_endAt_idx" ON "UsageSlice"("containerId", "endAt");

-- CreateIndex
CREATE UNIQUE INDEX "UsageSlice_containerId_startAt_key" ON "UsageSlice"("containerId", "startAt");

-- CreateIndex
CREATE UNIQUE INDEX "BillingAccount_stripeCustomerId_key" ON "BillingAccount"("stripeCustomerId");

-- CreateIndex
CREATE UNIQUE INDEX "BillingAccount_stripeSubscriptionId_key" ON "BillingAccount"("stripeSubscriptionId");

-- CreateIndex
CREATE INDEX "CreditGrant_workspaceId_effectiveAt_idx" ON "CreditGrant"("workspaceId", "effectiveAt");

-- CreateIndex
CREATE INDEX "BillingAlert_workspaceId_createdAt_idx" ON "BillingAlert"("workspaceId", "createdAt");
