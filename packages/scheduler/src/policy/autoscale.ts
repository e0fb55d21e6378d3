import { DomainError } from '@kiln/core';

/** An endpoint's scaling settings, as its owner sets them. */
export interface AutoscaleSettings {
  minContainers: number;
  maxContainers: number;
  /** Extra idle containers kept while the endpoint has load, to absorb the next burst. */
  bufferContainers: number;
  /** Inputs one container serves at once. */
  targetInputsPerContainer: number;
  /** How long load must stay low before containers are stopped. */
  scaleDownWindowMs: number;
}

/** Inputs in flight or waiting at one moment. */
export interface LoadSample {
  at: number;
  inputs: number;
}

export interface AutoscaleInput {
  settings: AutoscaleSettings;
  /** Containers running or starting now. */
  current: number;
  /** Observed load, oldest first; the last sample is the load now. */
  samples: readonly LoadSample[];
  now: number;
}

export interface AutoscaleDecision {
  /** Containers there should be. */
  desired: number;
  start: number;
  stop: number;
}

/**
 * How many replicas to start or stop, a pure function. Scale-up follows the load at once (the inputs
 * divided by the per-container target, plus the buffer while there is any load); scale-down waits until
 * the load has stayed lower for the whole window, taking the highest need seen in it. Always within
 * [min, max].
 */
export function autoscale(input: AutoscaleInput): AutoscaleDecision {
  const { settings, current, samples, now } = input;
  validate(settings);
  const windowStart = now - settings.scaleDownWindowMs;
  let peak = 0;
  let carried: LoadSample | undefined;
  for (const sample of samples) {
    if (sample.at > now) break;
    if (sample.at <= windowStart) {
      carried = sample;
      continue;
    }
    peak = Math.max(peak, need(settings, sample.inputs));
  }
  // The load measured just before the window held until the window's first sample.
  if (carried) peak = Math.max(peak, need(settings, carried.inputs));
  const latest = samples.findLast((sample) => sample.at <= now);
  const nowNeed = need(settings, latest?.inputs ?? 0);
  const clamp = (n: number) => Math.min(settings.maxContainers, Math.max(settings.minContainers, n));
  let desired: number;
  if (clamp(nowNeed) > current) desired = clamp(nowNeed);
  else desired = Math.min(current, clamp(peak));
  desired = clamp(desired);
  return { desired, start: Math.max(0, desired - current), stop: Math.max(0, current - desired) };
}

function need(settings: AutoscaleSettings, inputs: number): number {
  if (inputs <= 0) return 0;
  return Math.ceil(inputs / settings.targetInputsPerContainer) + settings.bufferContainers;
}

function validate(settings: AutoscaleSettings): void {
  const { minContainers, maxContainers, bufferContainers, targetInputsPerContainer, scaleDownWindowMs } =
    settings;
  const whole = (n: number) => Number.isInteger(n) && n >= 0;
  if (!whole(minContainers) || !whole(maxContainers) || !whole(bufferContainers)) {
    throw new DomainError(
      'VALIDATION_FAILED',
      'Min, max and buffer containers must be whole numbers of 0 or more',
    );
  }
  if (minContainers > maxContainers)
    throw new DomainError('VALIDATION_FAILED', 'Min containers must not exceed max containers');
  if (!(targetInputsPerContainer >= 1))
    throw new DomainError('VALIDATION_FAILED', 'Target inputs per container must be at least 1');
  if (!(scaleDownWindowMs >= 0))
    throw new DomainError('VALIDATION_FAILED', 'The scale-down window must be 0 ms or more');
}
