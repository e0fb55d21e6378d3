import type { PlanTier } from './plan-tier.ts';

/** Limits and allowances of one plan tier; `null` means unlimited or negotiated. */
export interface PlanLimits {
  monthlyBaseCents: number | null;
  monthlyCreditCents: number | null;
  maxContainers: number | null;
  gpuConcurrency: number | null;
  crons: number | null;
  webEndpoints: number | null;
  seats: number | null;
  logRetentionDays: number | null;
}

/** The default plans from shared/docs/product.md. */
export const PLANS: Record<PlanTier, PlanLimits> = {
  STARTER: {
    monthlyBaseCents: 0,
    monthlyCreditCents: 3_000,
    maxContainers: 100,
    gpuConcurrency: 10,
    crons: 5,
    webEndpoints: 8,
    seats: 3,
    logRetentionDays: 1,
  },
  TEAM: {
    monthlyBaseCents: 25_000,
    monthlyCreditCents: 10_000,
    maxContainers: 1_000,
    gpuConcurrency: 50,
    crons: null,
    webEndpoints: null,
    seats: null,
    logRetentionDays: 30,
  },
  ENTERPRISE: {
    monthlyBaseCents: null,
    monthlyCreditCents: null,
    maxContainers: null,
    gpuConcurrency: null,
    crons: null,
    webEndpoints: null,
    seats: null,
    logRetentionDays: null,
  },
};
