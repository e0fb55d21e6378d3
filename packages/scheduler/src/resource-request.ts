import { DomainError } from '@kiln/core';
import { z } from 'zod';
import { findGpuType, GPU_TYPE_NAMES, type GpuTypeName } from './gpu-types.ts';

/** One acceptable GPU shape: `count` devices of `type`. */
export interface GpuChoice {
  type: GpuTypeName;
  count: number;
}

/** A validated request; `gpu` lists acceptable shapes in order of preference (empty: no GPU). */
export interface NormalizedResourceRequest {
  cpu: number;
  memoryMiB: number;
  gpu: GpuChoice[];
}

const MAX_GPU_COUNT = 8;

const resourceRequestSchema = z.object({
  cpu: z.number().positive('cpu must be more than 0').max(64, 'cpu must be at most 64'),
  memoryMiB: z
    .number()
    .int('memoryMiB must be a whole number')
    .min(128, 'memoryMiB must be at least 128')
    .max(1_048_576, 'memoryMiB must be at most 1048576 (1 TiB)'),
  gpu: z.union([z.string(), z.array(z.string()).min(1, 'gpu fallback list must not be empty')]).nullish(),
});

/** Parses one GPU string such as `H100`, `a100-80gb:2` or `A10:4`. */
export function parseGpuString(value: string): GpuChoice {
  const match = /^\s*([A-Za-z0-9-]+)\s*(?::\s*(\S+)\s*)?$/.exec(value);
  const type = match?.[1] ? findGpuType(match[1]) : undefined;
  if (!match || !type) {
    throw new DomainError(
      'GPU_TYPE_UNKNOWN',
      `Unknown GPU type "${value}". Use one of ${GPU_TYPE_NAMES.join(', ')}, optionally with a count such as "H100:2".`,
      { gpu: value },
    );
  }
  const countText = match[2] ?? '1';
  const count = /^\d+$/.test(countText) ? Number(countText) : Number.NaN;
  if (!Number.isInteger(count) || count < 1 || count > MAX_GPU_COUNT) {
    throw new DomainError(
      'VALIDATION_FAILED',
      `GPU count in "${value}" must be a whole number from 1 to ${MAX_GPU_COUNT}.`,
      { gpu: value },
    );
  }
  if (count > type.maxCount) {
    throw new DomainError(
      'VALIDATION_FAILED',
      `${type.name} can be requested at most ${type.maxCount} at a time, not ${count}.`,
      { gpu: value },
    );
  }
  return { type: type.name, count };
}

/** Validates a resource request from untrusted input; throws DomainError with a message a user can act on. */
export function parseResourceRequest(input: unknown): NormalizedResourceRequest {
  const parsed = resourceRequestSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
    throw new DomainError(
      'VALIDATION_FAILED',
      `Invalid resource request: ${where}${issue?.message ?? 'bad input'}`,
    );
  }
  const { cpu, memoryMiB, gpu } = parsed.data;
  const list = gpu == null ? [] : Array.isArray(gpu) ? gpu : [gpu];
  return { cpu, memoryMiB, gpu: list.map(parseGpuString) };
}
