-- CreateTable
CREATE TABLE "StripeEvent" (
    "id" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "receivedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "StripeEvent_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "UsageOutbox" (
    "id" TEXT NOT NULL,
    "workspaceId" UUID NOT NULL,
    "customerId" TEXT NOT NULL,
    "eventName" TEXT NOT NULL,
    "windowStart" TIMESTAMPTZ(3) NOT NULL,
    "value" BIGINT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "nextAttemptAt" TIMESTAMPTZ(3) NOT NULL,
    "lastError" TEXT,
    "sentAt" TIMESTAMPTZ(3),
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "UsageOutbox_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "StripeCatalogEntry" (
    "key" TEXT NOT NULL,
    "stripeId" TEXT NOT NULL,

    CONSTRAINT "StripeCatalogEntry_pkey" PRIMARY KEY ("key")
);

-- CreateIndex
CREATE INDEX "UsageOutbox_status_nextAttemptAt_idx" ON "UsageOutbox"("status", "nextAttemptAt");

-- CreateIndex
CREATE INDEX "UsageOutbox_customerId_eventName_windowStart_idx" ON "UsageOutbox"("customerId", "eventName", "windowStart");
