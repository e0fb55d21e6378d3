/** Per-second prices in US dollars; the operator may override any of them. */
export interface PriceBook {
  gpu: Record<string, number>;
  cpuCore: number;
  memoryGiB: number;
  minimumCpuCores: number;
}

/** Kiln's default prices, taken from Modal's public per-second prices (shared/docs/product.md). */
export const DEFAULT_PRICE_BOOK: PriceBook = {
  gpu: {
    B200: 0.001736,
    H200: 0.001261,
    H100: 0.001097,
    'RTX-PRO-6000': 0.000842,
    'A100-80GB': 0.000694,
    'A100-40GB': 0.000583,
    L40S: 0.000542,
    A10: 0.000306,
    L4: 0.000222,
    T4: 0.000164,
  },
  cpuCore: 0.0000131,
  memoryGiB: 0.00000222,
  minimumCpuCores: 0.125,
};

export interface MeteredResources {
  cpuCores: number;
  memoryGiB: number;
  gpu?: { type: string; count: number } | null;
}

/** Dollars for `seconds` of a container holding `resources`, in micro-dollars to avoid float drift. */
export function costMicros(book: PriceBook, resources: MeteredResources, seconds: number): number {
  if (!Number.isFinite(seconds) || seconds < 0) throw new RangeError(`seconds must be >= 0, got ${seconds}`);
  const cpu = Math.max(resources.cpuCores, book.minimumCpuCores) * book.cpuCore;
  const memory = resources.memoryGiB * book.memoryGiB;
  let gpu = 0;
  if (resources.gpu && resources.gpu.count > 0) {
    const price = book.gpu[resources.gpu.type];
    if (price === undefined) throw new RangeError(`no price for GPU type ${resources.gpu.type}`);
    gpu = price * resources.gpu.count;
  }
  return Math.round((cpu + memory + gpu) * seconds * 1e6);
}

/** Merges an operator's overrides over the defaults. */
export function createPriceBook(overrides: Partial<PriceBook> = {}): PriceBook {
  return {
    ...DEFAULT_PRICE_BOOK,
    ...overrides,
    gpu: { ...DEFAULT_PRICE_BOOK.gpu, ...overrides.gpu },
  };
}
