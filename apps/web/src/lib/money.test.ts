import { describe, expect, it } from 'vitest';
import { formatMicros } from './money.ts';

describe('money shown to people', () => {
  it('keeps sub-cent costs visible to the micro-dollar when precise, cents otherwise', () => {
    expect(formatMicros(12_345_678)).toBe('$12.35');
    expect(formatMicros(4_200, { precise: true })).toBe('$0.0042');
    // One second of a 1-core, 2 GiB kernel: about 17.5 micro-dollars.
    expect(formatMicros(18, { precise: true })).toBe('$0.000018');
    expect(formatMicros(1, { precise: true })).toBe('$0.000001');
    expect(formatMicros(0, { precise: true })).toBe('$0.00');
    expect(formatMicros(18)).toBe('$0.00');
    expect(formatMicros(-4_200, { precise: true })).toBe('-$0.0042');
  });
});
