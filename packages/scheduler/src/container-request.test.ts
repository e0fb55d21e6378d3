import { describe, expect, it } from 'vitest';
import { parseContainerRequest } from './container-request.ts';
import type { ContainerRequest } from './types.ts';

const valid: ContainerRequest = {
  workspaceId: '0b6f1c3e-5d0e-4a5e-9a9b-6d0f2a1c3b4d',
  kind: 'kernel',
  ownerId: 'notebook-1',
  resources: { cpu: 1, memoryMiB: 2048, gpu: ['H100', 'a100-80gb:2'] },
};

describe('parseContainerRequest', () => {
  it('normalizes the resources with the one GPU string parser', () => {
    expect(parseContainerRequest(valid).resources).toEqual({
      cpu: 1,
      memoryMiB: 2048,
      gpu: [
        { type: 'H100', count: 1 },
        { type: 'A100-80GB', count: 2 },
      ],
    });
  });

  it('says which field is wrong', () => {
    const bad = (change: object) => () => parseContainerRequest({ ...valid, ...change } as ContainerRequest);
    expect(bad({ kind: 'vm' })).toThrow(/kind must be kernel, endpoint_replica or sandbox/);
    expect(bad({ ownerId: '' })).toThrow(/ownerId must not be empty/);
    expect(bad({ requestedById: 'alice' })).toThrow(/requestedById must be a user id/);
    expect(bad({ queueTimeoutMs: -1 })).toThrow(/must not be negative/);
    expect(bad({ resources: { cpu: 1, memoryMiB: 2048, gpu: 'V100' } })).toThrow(/Unknown GPU type "V100"/);
  });
});
