import { describe, expect, it } from 'vitest';
import { costMicros, createPriceBook, DEFAULT_PRICE_BOOK } from './price-book.ts';

describe('price book', () => {
  it('charges an hour of one H100 with 8 cores and 32 GiB at the published per-second prices', () => {
    const micros = costMicros(
      DEFAULT_PRICE_BOOK,
      { cpuCores: 8, memoryGiB: 32, gpu: { type: 'H100', count: 1 } },
      3600,
    );
    // (0.001097 + 8 * 0.0000131 + 32 * 0.00000222) * 3600 = $4.582224
    expect(micros).toBe(4_582_224);
  });

  it('bills at least 0.125 core per container', () => {
    const tiny = costMicros(DEFAULT_PRICE_BOOK, { cpuCores: 0.01, memoryGiB: 0 }, 1_000_000);
    expect(tiny).toBe(Math.round(0.125 * 0.0000131 * 1_000_000 * 1e6));
  });

  it('multiplies by the GPU count and refuses GPU types it has no price for', () => {
    const one = costMicros(
      DEFAULT_PRICE_BOOK,
      { cpuCores: 0, memoryGiB: 0, gpu: { type: 'A100-80GB', count: 1 } },
      100,
    );
    const two = costMicros(
      DEFAULT_PRICE_BOOK,
      { cpuCores: 0, memoryGiB: 0, gpu: { type: 'A100-80GB', count: 2 } },
      100,
    );
    expect(two - one).toBe(69_400);
    expect(() =>
      costMicros(DEFAULT_PRICE_BOOK, { cpuCores: 1, memoryGiB: 1, gpu: { type: 'V100', count: 1 } }, 1),
    ).toThrow(/no price for GPU type V100/);
  });

  it('rejects negative or non-finite durations', () => {
    expect(() => costMicros(DEFAULT_PRICE_BOOK, { cpuCores: 1, memoryGiB: 1 }, -1)).toThrow(RangeError);
    expect(() => costMicros(DEFAULT_PRICE_BOOK, { cpuCores: 1, memoryGiB: 1 }, Number.NaN)).toThrow(
      RangeError,
    );
  });

  it('lets the operator override one GPU price and keeps the others', () => {
    const book = createPriceBook({ gpu: { T4: 0.0001 } });
    expect(book.gpu.T4).toBe(0.0001);
    expect(book.gpu.H100).toBe(DEFAULT_PRICE_BOOK.gpu.H100);
  });
});
