export { type Period, periodFromKey, periodOf } from './ledger/period.ts';
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
