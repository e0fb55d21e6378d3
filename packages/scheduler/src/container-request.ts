import { DomainError } from '@kiln/core';
import { z } from 'zod';
import { type NormalizedResourceRequest, parseResourceRequest } from './resource-request.ts';
import type { ContainerRequest } from './types.ts';

const DAY_MS = 24 * 3600_000;

const requestSchema = z.object({
  workspaceId: z.string('workspaceId must be text'),
  kind: z.enum(['kernel', 'endpoint_replica', 'sandbox'], 'kind must be kernel, endpoint_replica or sandbox'),
  ownerId: z
    .string('ownerId must be text')
    .min(1, 'ownerId must not be empty')
    .max(200, 'ownerId is too long'),
  requestedById: z.uuid('requestedById must be a user id').nullish(),
  whenBusy: z.enum(['queue', 'refuse'], 'whenBusy must be queue or refuse').optional(),
  queueTimeoutMs: z
    .number('queueTimeoutMs must be a number')
    .int('queueTimeoutMs must be a whole number')
    .min(0, 'queueTimeoutMs must not be negative')
    .max(DAY_MS, 'queueTimeoutMs must be at most a day')
    .optional(),
  volumes: z
    .array(z.uuid('volumes must be volume ids'), 'volumes must be a list of volume ids')
    .max(64, 'volumes lists at most 64 volumes')
    .refine((ids) => new Set(ids).size === ids.length, 'volumes lists a volume twice')
    .optional(),
  mountsWorkspace: z.boolean('mountsWorkspace must be true or false').optional(),
});

/** Checks a container request from untrusted input; the resources go through `parseResourceRequest`. */
export function parseContainerRequest(
  input: ContainerRequest,
): Omit<ContainerRequest, 'resources'> & { resources: NormalizedResourceRequest } {
  const parsed = requestSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new DomainError('VALIDATION_FAILED', `Invalid container request: ${issue?.message ?? 'bad input'}`);
  }
  return { ...parsed.data, resources: parseResourceRequest(input.resources) };
}
