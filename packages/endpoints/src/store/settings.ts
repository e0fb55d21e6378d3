import { DomainError } from '@kiln/core';

/** What an endpoint's owner sets: its machine and its autoscaling policy. */
export interface EndpointSettings {
  public: boolean;
  cpu: number;
  memoryMiB: number;
  /** GPU shapes in order of preference ("H100:2"); empty for none. */
  gpu: string[];
  minReplicas: number;
  maxReplicas: number;
  bufferReplicas: number;
  scaleDownSeconds: number;
  /** Calls one replica takes at once (its agent queues them); the autoscaler divides the load by it. */
  targetConcurrency: number;
  timeoutSeconds: number;
  /** Calls that may wait for a replica; past it callers get 503 with Retry-After. */
  queueLimit: number;
}

export const DEFAULT_SETTINGS: EndpointSettings = {
  public: false,
  cpu: 1,
  memoryMiB: 2048,
  gpu: [],
  minReplicas: 0,
  maxReplicas: 4,
  bufferReplicas: 0,
  scaleDownSeconds: 60,
  targetConcurrency: 1,
  timeoutSeconds: 150,
  queueLimit: 64,
};

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,46}[a-z0-9])?$/;

/** A label is the URL's last part: lowercase letters, digits and inner dashes, at most 48. */
export function validateLabel(label: string): string {
  if (!LABEL.test(label)) {
    throw new DomainError(
      'VALIDATION_FAILED',
      'An endpoint label is 1-48 lowercase letters, digits or dashes, starting and ending with a letter or digit',
      { field: 'label' },
    );
  }
  return label;
}

/** Each whole-number setting: its range and the name people see in messages. */
const RANGES: Record<
  Exclude<keyof EndpointSettings, 'public' | 'gpu' | 'cpu'>,
  [min: number, max: number, label: string]
> = {
  memoryMiB: [128, 1_048_576, 'Memory (MiB)'],
  minReplicas: [0, 100, 'Minimum replicas'],
  maxReplicas: [1, 100, 'Maximum replicas'],
  bufferReplicas: [0, 100, 'Buffer replicas'],
  scaleDownSeconds: [1, 86_400, 'Scale-down window (seconds)'],
  targetConcurrency: [1, 1000, 'Concurrent calls per replica'],
  timeoutSeconds: [1, 3600, 'Timeout (seconds)'],
  queueLimit: [0, 10_000, 'Queue limit'],
};

/** Merges `input` over `base` and checks every field; a bad one is named in the error. */
export function resolveSettings(base: EndpointSettings, input: Partial<EndpointSettings>): EndpointSettings {
  const merged = { ...base, ...input };
  for (const [field, [min, max, label]] of Object.entries(RANGES)) {
    const value = merged[field as keyof typeof RANGES];
    if (!Number.isInteger(value) || value < min || value > max)
      throw new DomainError('VALIDATION_FAILED', `${label} must be a whole number from ${min} to ${max}`, {
        field,
      });
  }
  if (!(merged.cpu >= 0.125 && merged.cpu <= 512))
    throw new DomainError('VALIDATION_FAILED', 'CPU must be from 0.125 to 512 cores', { field: 'cpu' });
  if (merged.minReplicas > merged.maxReplicas)
    throw new DomainError('VALIDATION_FAILED', 'Minimum replicas cannot be above maximum replicas', {
      field: 'minReplicas',
    });
  if (!Array.isArray(merged.gpu) || merged.gpu.length > 8 || merged.gpu.some((g) => typeof g !== 'string'))
    throw new DomainError('VALIDATION_FAILED', 'GPU is a list of at most 8 GPU shapes', { field: 'gpu' });
  return { ...merged, public: Boolean(merged.public) };
}
