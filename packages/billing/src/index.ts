export {
  type AlertNotifier,
  type BillingAlertView,
  listAlerts,
  raiseAlert,
  raiseSpendAlerts,
  setBudget,
} from './account/alerts.ts';
export { creditsFor, ensurePlanCredits, grantCredits } from './account/credits.ts';
export { checkSpend, type Enforcement, type EnforceOptions, enforceCaps } from './account/enforce.ts';
export { formatMicros } from './account/money.ts';
export { changePlan, currentPlanUsage, type PlanUsage, planChangeBlockers } from './account/plan-change.ts';
export {
  type CostView,
  type RunningView,
  reportCsv,
  runningCosts,
  type UsageReport,
  usageReport,
} from './account/report.ts';
export { type SpendCheck, type SpendSummary, type StopCode, spendSummary } from './account/spend.ts';
export { type Invoice, type InvoiceLine, invoiceFor } from './ledger/invoice.ts';
export { type Period, periodFromKey, periodOf } from './ledger/period.ts';
export { containerRunCost, ownerCosts, type RunCost } from './ledger/run-cost.ts';
export {
  costBy,
  type DailyCost,
  dailyCost,
  type GroupCost,
  type ResourceCost,
  type Window,
  windowCost,
} from './ledger/usage-queries.ts';
export { createMeter, DEFAULT_METER_OPTIONS, type Meter, type MeterOptions } from './meter/meter.ts';
export type { EventSource, MeterEvent, MeterEventPage } from './meter/types.ts';
export type { PlanTier } from './plan-tier.ts';
export type { PlanLimits } from './plans.ts';
export { PLANS } from './plans.ts';
export type { MeteredResources, PriceBook, SliceRates } from './price-book.ts';
export {
  costMicros,
  createPriceBook,
  DEFAULT_PRICE_BOOK,
  femtoToMicros,
  sliceRates,
  toMillicores,
  validatePriceBook,
} from './price-book.ts';
export {
  listPriceVersions,
  type PriceVersionView,
  priceVersionAt,
  publishPriceBook,
} from './price-versions.ts';
export { type Catalog, dimensions, ensureCatalog, gpuEventName } from './stripe/catalog.ts';
export { createPortalSession, createUpgradeCheckout, ensureCustomer } from './stripe/checkout.ts';
export { createStripeClient, type StripeClientOptions } from './stripe/client.ts';
export {
  DEFAULT_OUTBOX_OPTIONS,
  type OutboxOptions,
  rollupId,
  rollupUsage,
  type SendResult,
  sendOutbox,
} from './stripe/outbox.ts';
export { createStripeBilling, type StripeBilling } from './stripe/provider.ts';
export { type Difference, reconcileUsage } from './stripe/reconcile.ts';
export { handleStripeWebhook, type WebhookOutcome } from './stripe/webhooks.ts';
