export { DEFAULT_PRICE_BOOK, costMicros, createPriceBook } from './price-book.ts';
export type { MeteredResources, PriceBook } from './price-book.ts';
export { PLANS } from './plans.ts';
export type { PlanLimits } from './plans.ts';
export type { PlanTier } from './plan-tier.ts';
