/**
 * Per-second prices in integer nano-dollars (1e-9 USD), so that prices like $0.0000131 per core-second
 * are exact integers and no float ever touches money. The operator may override any of them.
 */
export interface PriceBook {
  /** Nano-dollars per GPU-second, by Kiln GPU type. */
  gpu: Record<string, number>;
  /** Nano-dollars per core-second. */
  cpuCore: number;
  /** Nano-dollars per GiB-second. */
  memoryGiB: number;
  /** Every container is billed for at least this much CPU. */
  minimumCpuMillicores: number;
}

/** Kiln's default prices, taken from Modal's public per-second prices (shared/docs/product.md). */
export const DEFAULT_PRICE_BOOK: PriceBook = {
  gpu: {
    B200: 1_736_000,
    H200: 1_261_000,
    H100: 1_097_000,
    'RTX-PRO-6000': 842_000,
    'A100-80GB': 694_000,
    'A100-40GB': 583_000,
    L40S: 542_000,
    A10: 306_000,
    L4: 222_000,
    T4: 164_000,
  },
  cpuCore: 13_100,
  memoryGiB: 2_220,
  minimumCpuMillicores: 125,
};

/** What a container holds, in the integer units slices store. */
export interface MeteredResources {
  cpuMillicores: number;
  memoryMiB: number;
  gpu?: { type: string; count: number } | null;
}

/** A slice's price: femto-dollars (1e-15 USD) per millisecond, per resource. */
export interface SliceRates {
  gpu: bigint;
  cpu: bigint;
  memory: bigint;
}

/** Converts cores (as the scheduler stores them, e.g. 0.5) to whole millicores. */
export function toMillicores(cores: number): number {
  return Math.round(cores * 1000);
}

/**
 * Rates of one container under `book`. A nano-dollar per second is a femto-dollar per millisecond
 * times 1000, so GPU and CPU rates are exact; memory is exact for multiples of 128 MiB and otherwise
 * rounded to the femto-dollar per millisecond (under $0.000003 over a month).
 */
export function sliceRates(book: PriceBook, resources: MeteredResources): SliceRates {
  let gpu = 0n;
  if (resources.gpu && resources.gpu.count > 0) {
    const price = book.gpu[resources.gpu.type];
    if (price === undefined) throw new RangeError(`no price for GPU type ${resources.gpu.type}`);
    gpu = BigInt(price) * BigInt(resources.gpu.count) * 1000n;
  }
  const millicores = Math.max(resources.cpuMillicores, book.minimumCpuMillicores);
  const cpu = BigInt(book.cpuCore) * BigInt(millicores);
  const memory = divRound(BigInt(book.memoryGiB) * BigInt(resources.memoryMiB) * 1000n, 1024n);
  return { gpu, cpu, memory };
}

/** Micro-dollars for `ms` milliseconds of a container holding `resources`. */
export function costMicros(book: PriceBook, resources: MeteredResources, ms: number): bigint {
  if (!Number.isSafeInteger(ms) || ms < 0) throw new RangeError(`ms must be a whole number >= 0, got ${ms}`);
  const rates = sliceRates(book, resources);
  return femtoToMicros((rates.gpu + rates.cpu + rates.memory) * BigInt(ms));
}

/** Rounds femto-dollars to micro-dollars, halves away from zero. */
export function femtoToMicros(femto: bigint): bigint {
  return divRound(femto, 1_000_000_000n);
}

/** Integer division rounding halves away from zero. */
export function divRound(numerator: bigint, denominator: bigint): bigint {
  const negative = numerator < 0n !== denominator < 0n;
  const n = numerator < 0n ? -numerator : numerator;
  const d = denominator < 0n ? -denominator : denominator;
  const q = (n + d / 2n) / d;
  return negative ? -q : q;
}

/** Checks an operator's price book: whole, non-negative nano-dollar prices. */
export function validatePriceBook(book: PriceBook): PriceBook {
  const check = (name: string, value: unknown) => {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
      throw new RangeError(`${name} must be a whole number of nano-dollars >= 0, got ${String(value)}`);
  };
  for (const [type, price] of Object.entries(book.gpu)) check(`gpu.${type}`, price);
  check('cpuCore', book.cpuCore);
  check('memoryGiB', book.memoryGiB);
  check('minimumCpuMillicores', book.minimumCpuMillicores);
  return book;
}

/** Merges an operator's overrides over the defaults. */
export function createPriceBook(overrides: Partial<PriceBook> = {}): PriceBook {
  return validatePriceBook({
    ...DEFAULT_PRICE_BOOK,
    ...overrides,
    gpu: { ...DEFAULT_PRICE_BOOK.gpu, ...overrides.gpu },
  });
}
