import { DomainError } from '@kiln/core';
import { describe, expect, it } from 'vitest';
import { parseGpuString, parseResourceRequest } from './resource-request.ts';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof DomainError ? error.code : 'not a DomainError';
  }
  return undefined;
}

describe('parseGpuString', () => {
  it('reads every catalog type, case-insensitively, with an optional count', () => {
    expect(parseGpuString('H100')).toEqual({ type: 'H100', count: 1 });
    expect(parseGpuString('a100-80gb:2')).toEqual({ type: 'A100-80GB', count: 2 });
    expect(parseGpuString('RTX-PRO-6000:8')).toEqual({ type: 'RTX-PRO-6000', count: 8 });
    for (const name of ['T4', 'L4', 'A10', 'L40S', 'A100-40GB', 'H200', 'B200']) {
      expect(parseGpuString(name).type).toBe(name);
    }
  });

  it('rejects unknown types with GPU_TYPE_UNKNOWN and a message listing the known ones', () => {
    expect(codeOf(() => parseGpuString('V100'))).toBe('GPU_TYPE_UNKNOWN');
    expect(() => parseGpuString('V100')).toThrow(/Unknown GPU type "V100".*H100/);
    expect(codeOf(() => parseGpuString('A100'))).toBe('GPU_TYPE_UNKNOWN');
  });

  it('limits counts: at most 8, A10 at most 4, whole numbers only', () => {
    expect(() => parseGpuString('H100:9')).toThrow(/1 to 8/);
    expect(() => parseGpuString('H100:0')).toThrow(/1 to 8/);
    expect(() => parseGpuString('H100:1.5')).toThrow(/whole number/);
    expect(parseGpuString('A10:4')).toEqual({ type: 'A10', count: 4 });
    expect(() => parseGpuString('A10:5')).toThrow(/A10 can be requested at most 4/);
  });
});

describe('parseResourceRequest', () => {
  it('normalizes no GPU, one GPU and a fallback list', () => {
    expect(parseResourceRequest({ cpu: 1, memoryMiB: 2048 })).toEqual({ cpu: 1, memoryMiB: 2048, gpu: [] });
    expect(parseResourceRequest({ cpu: 2, memoryMiB: 4096, gpu: null }).gpu).toEqual([]);
    expect(parseResourceRequest({ cpu: 2, memoryMiB: 4096, gpu: ['H100:2', 'A100-80GB:2'] }).gpu).toEqual([
      { type: 'H100', count: 2 },
      { type: 'A100-80GB', count: 2 },
    ]);
  });

  it('says which field is wrong', () => {
    expect(() => parseResourceRequest({ cpu: 0, memoryMiB: 2048 })).toThrow(/cpu: cpu must be more than 0/);
    expect(() => parseResourceRequest({ cpu: 1, memoryMiB: 64 })).toThrow(
      /memoryMiB: memoryMiB must be at least 128/,
    );
    expect(() => parseResourceRequest({ cpu: 1, memoryMiB: 512, gpu: [] })).toThrow(
      /fallback list must not be empty/,
    );
    expect(codeOf(() => parseResourceRequest('big'))).toBe('VALIDATION_FAILED');
    expect(codeOf(() => parseResourceRequest({ cpu: 1, memoryMiB: 512, gpu: ['H100', 'X1'] }))).toBe(
      'GPU_TYPE_UNKNOWN',
    );
  });
});
