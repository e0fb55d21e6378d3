export type { PlanTier } from './plan-tier.ts';
export type { PlanLimits } from './plans.ts';
export { PLANS } from './plans.ts';
export type { MeteredResources, PriceBook } from './price-book.ts';
export { costMicros, createPriceBook, DEFAULT_PRICE_BOOK } from './price-book.ts';
