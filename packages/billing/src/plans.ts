import type { PlanTier } from './plan-tier.ts';

/** Limits and allowances of one plan tier; `null` means unlimited or negotiated. */
export interface PlanLimits {
  monthlyBaseCents: number | null;
  monthlyCreditCents: number | null;
  maxContainers: number | null;
  gpuConcurrency: number | null;
  /** Most CPU cores one container may ask for; `null`: only the operator's maximum applies. */
  maxCpu: number | null;
  /** Most memory one container may ask for, in MiB; `null`: only the operator's maximum applies. */
  maxMemoryMiB: number | null;
  crons: number | null;
  webEndpoints: number | null;
  seats: number | null;
  logRetentionDays: number | null;
  /** Named volumes a workspace may hold; `null`: no limit. */
  volumes: number | null;
  /** Size of each named volume, in MiB (writes past it fail with ENOSPC in the sandbox). */
  volumeQuotaMiB: number;
}

/** The default plans from shared/docs/product.md. */
export const PLANS: Record<PlanTier, PlanLimits> = {
  STARTER: {
    monthlyBaseCents: 0,
    monthlyCreditCents: 3_000,
    maxContainers: 100,
    gpuConcurrency: 10,
    maxCpu: 8,
    maxMemoryMiB: 32 * 1024,
    crons: 5,
    webEndpoints: 8,
    seats: 3,
    logRetentionDays: 1,
    volumes: 10,
    volumeQuotaMiB: 10 * 1024,
  },
  TEAM: {
    monthlyBaseCents: 25_000,
    monthlyCreditCents: 10_000,
    maxContainers: 1_000,
    gpuConcurrency: 50,
    maxCpu: 32,
    maxMemoryMiB: 128 * 1024,
    crons: null,
    webEndpoints: null,
    seats: null,
    logRetentionDays: 30,
    volumes: 100,
    volumeQuotaMiB: 100 * 1024,
  },
  ENTERPRISE: {
    monthlyBaseCents: null,
    monthlyCreditCents: null,
    maxContainers: null,
    gpuConcurrency: null,
    maxCpu: null,
    maxMemoryMiB: null,
    crons: null,
    webEndpoints: null,
    seats: null,
    logRetentionDays: null,
    volumes: null,
    volumeQuotaMiB: 1024 * 1024,
  },
};
