import { describe, expect, it } from 'vitest';
import { costMicros, createPriceBook, DEFAULT_PRICE_BOOK, sliceRates } from './price-book.ts';

describe('price book', () => {
  it('charges an hour of one H100 with 8 cores and 32 GiB at the published per-second prices', () => {
    const micros = costMicros(
      DEFAULT_PRICE_BOOK,
      { cpuMillicores: 8000, memoryMiB: 32 * 1024, gpu: { type: 'H100', count: 1 } },
      3_600_000,
    );
    // (0.001097 + 8 * 0.0000131 + 32 * 0.00000222) * 3600 = $4.582224
    expect(micros).toBe(4_582_224n);
  });

  it('bills at least 0.125 core per container', () => {
    const tiny = costMicros(DEFAULT_PRICE_BOOK, { cpuMillicores: 10, memoryMiB: 0 }, 1_000_000_000);
    // 0.125 * 0.0000131 * 1,000,000 s = $1.6375
    expect(tiny).toBe(1_637_500n);
  });

  it('multiplies by the GPU count and refuses GPU types it has no price for', () => {
    const one = costMicros(
      DEFAULT_PRICE_BOOK,
      { cpuMillicores: 0, memoryMiB: 0, gpu: { type: 'A100-80GB', count: 1 } },
      100_000,
    );
    const two = costMicros(
      DEFAULT_PRICE_BOOK,
      { cpuMillicores: 0, memoryMiB: 0, gpu: { type: 'A100-80GB', count: 2 } },
      100_000,
    );
    expect(two - one).toBe(69_400n);
    expect(() =>
      sliceRates(DEFAULT_PRICE_BOOK, {
        cpuMillicores: 1000,
        memoryMiB: 1024,
        gpu: { type: 'V100', count: 1 },
      }),
    ).toThrow(/no price for GPU type V100/);
  });

  it('keeps a month of memory exact to the micro-dollar for whole GiB', () => {
    // 30 days: 16 GiB * $0.00000222 = $92.06784, plus the minimum 0.125 core * $0.0000131 = $4.2444
    expect(costMicros(DEFAULT_PRICE_BOOK, { cpuMillicores: 0, memoryMiB: 16 * 1024 }, 2_592_000_000)).toBe(
      96_312_240n,
    );
  });

  it('rejects negative or fractional durations and non-integer prices', () => {
    expect(() => costMicros(DEFAULT_PRICE_BOOK, { cpuMillicores: 1000, memoryMiB: 1024 }, -1)).toThrow(
      RangeError,
    );
    expect(() => costMicros(DEFAULT_PRICE_BOOK, { cpuMillicores: 1000, memoryMiB: 1024 }, 1.5)).toThrow(
      RangeError,
    );
    expect(() => createPriceBook({ cpuCore: 13.1 })).toThrow(/whole number of nano-dollars/);
  });

  it('lets the operator override one GPU price and keeps the others', () => {
    const book = createPriceBook({ gpu: { T4: 100_000 } });
    expect(book.gpu.T4).toBe(100_000);
    expect(book.gpu.H100).toBe(DEFAULT_PRICE_BOOK.gpu.H100);
  });
});
