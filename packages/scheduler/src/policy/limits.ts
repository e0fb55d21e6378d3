import type { PlanLimits, PlanTier } from '@kiln/billing';
import { DomainError } from '@kiln/core';
import { formatCpu, formatMemory } from './fair-queue.ts';

/** The plan fields the scheduler enforces; `null` means no limit from the plan. */
export type SchedulerPlanLimits = Pick<
  PlanLimits,
  'maxContainers' | 'gpuConcurrency' | 'maxCpu' | 'maxMemoryMiB'
>;

/** The operator's ceiling per container, whatever the plan. */
export interface OperatorMaximums {
  maxCpuPerContainer: number;
  maxMemoryMiBPerContainer: number;
}

/** What a workspace holds against its plan: queued, starting and running containers (not hibernated). */
export interface WorkspaceUsage {
  containers: number;
  /** GPUs held by starting and running containers plus those set aside for its queued requests. */
  gpus: number;
}

export const PLAN_NAMES: Record<PlanTier, string> = {
  STARTER: 'Starter',
  TEAM: 'Team',
  ENTERPRISE: 'Enterprise',
};
const NEXT_PLAN: Record<PlanTier, PlanTier | null> = {
  STARTER: 'TEAM',
  TEAM: 'ENTERPRISE',
  ENTERPRISE: null,
};

type LimitName = keyof SchedulerPlanLimits;

/** Refuses a container larger than its plan or the operator allows, naming the limit and what raises it. */
export function checkContainerSize(
  plan: PlanTier,
  plans: Record<PlanTier, SchedulerPlanLimits>,
  operator: OperatorMaximums,
  request: { cpu: number; memoryMiB: number },
): void {
  const limits = plans[plan];
  const checks = [
    {
      limit: 'maxCpu' as const,
      asked: request.cpu,
      planMax: limits.maxCpu,
      operatorMax: operator.maxCpuPerContainer,
      words: formatCpu,
    },
    {
      limit: 'maxMemoryMiB' as const,
      asked: request.memoryMiB,
      planMax: limits.maxMemoryMiB,
      operatorMax: operator.maxMemoryMiBPerContainer,
      words: (n: number) => `${formatMemory(n)} of memory`,
    },
  ];
  for (const { limit, asked, planMax, operatorMax, words } of checks) {
    if (planMax !== null && planMax < operatorMax && asked > planMax) {
      throw new DomainError(
        'QUOTA_EXCEEDED',
        `The ${PLAN_NAMES[plan]} plan allows at most ${words(planMax)} per container, and this asks for ${words(asked)}. ${raiseHint(plan, limit, plans, words, operatorMax)}`,
        { limit, plan, max: planMax, requested: asked },
      );
    }
    if (asked > operatorMax) {
      throw new DomainError(
        'QUOTA_EXCEEDED',
        `This Kiln allows at most ${words(operatorMax)} per container (the operator's maximum), and this asks for ${words(asked)}. Ask for less, or ask the operator to raise the maximum.`,
        { limit, plan, max: operatorMax, requested: asked, by: 'operator' },
      );
    }
  }
}

/** Refuses one more container when the workspace is at its plan's limit. */
export function checkContainerCount(
  plan: PlanTier,
  plans: Record<PlanTier, SchedulerPlanLimits>,
  usage: WorkspaceUsage,
): void {
  const max = plans[plan].maxContainers;
  if (max === null || usage.containers + 1 <= max) return;
  const words = (n: number) => `${n.toLocaleString('en-US')}`;
  throw new DomainError(
    'QUOTA_EXCEEDED',
    `This workspace already has ${words(usage.containers)} containers queued, starting or running, the ${PLAN_NAMES[plan]} plan's limit of ${words(max)} concurrent containers (hibernated kernels do not count). Stop one. ${raiseHint(plan, 'maxContainers', plans, words)}`,
    { limit: 'maxContainers', plan, max, used: usage.containers, requested: 1 },
  );
}

/** The GPU counts among `counts` that fit under the plan's GPU limit next to what the workspace holds. */
export function gpuCountsWithinLimit(
  plan: PlanTier,
  plans: Record<PlanTier, SchedulerPlanLimits>,
  heldGpus: number,
  counts: readonly number[],
): number[] {
  const max = plans[plan].gpuConcurrency;
  return counts.filter((count) => max === null || heldGpus + count <= max);
}

/** The error for a GPU request no choice of which fits under the plan's GPU limit. */
export function gpuQuotaError(
  plan: PlanTier,
  plans: Record<PlanTier, SchedulerPlanLimits>,
  heldGpus: number,
  smallestCount: number,
): DomainError {
  const max = plans[plan].gpuConcurrency ?? 0;
  const words = (n: number) => `${n} ${n === 1 ? 'GPU' : 'GPUs'}`;
  return new DomainError(
    'QUOTA_EXCEEDED',
    `This workspace holds ${words(heldGpus)} (running, starting or queued) and this asks for ${smallestCount} more, over the ${PLAN_NAMES[plan]} plan's limit of ${words(max)} at once (hibernated kernels hold none). Stop a GPU container or hibernate an idle kernel. ${raiseHint(plan, 'gpuConcurrency', plans, words)}`,
    { limit: 'gpuConcurrency', plan, max, used: heldGpus, requested: smallestCount },
  );
}

function raiseHint(
  plan: PlanTier,
  limit: LimitName,
  plans: Record<PlanTier, SchedulerPlanLimits>,
  words: (n: number) => string,
  operatorMax = Number.POSITIVE_INFINITY,
): string {
  const next = NEXT_PLAN[plan];
  if (next === null) return `Ask the operator to raise the ${PLAN_NAMES[plan]} limit for this workspace.`;
  const value = plans[next][limit];
  if (next === 'ENTERPRISE' && value === null) {
    return `The operator sets ${PLAN_NAMES[next]} limits: ask them about the ${PLAN_NAMES[next]} plan.`;
  }
  const raised = value === null ? operatorMax : value;
  const amount = Number.isFinite(raised) ? `for ${words(raised)}` : 'for no limit';
  return `Upgrade to ${PLAN_NAMES[next]} ${amount}.`;
}
