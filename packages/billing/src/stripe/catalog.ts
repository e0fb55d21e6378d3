import type { Db } from '@kiln/db';
import Stripe from 'stripe';
import { DEFAULT_PRICE_BOOK, type PriceBook } from '../price-book.ts';

/** A Stripe meter per billed dimension; values are whole milli-units per minute. */
export interface Dimension {
  eventName: string;
  displayName: string;
  /** Cents per unit, as Stripe's unit_amount_decimal (at most 12 decimals). */
  centsPerUnit: string;
}

/** Nano-dollars per second are 1e-10 cents per millisecond. */
function centsPerMs(nanoPerSecond: number): string {
  return (nanoPerSecond / 1e10).toFixed(12).replace(/0+$/, '').replace(/\.$/, '');
}

/** GPU-ms per type, CPU core-ms (at least the billed minimum), memory GiB-ms. */
export function dimensions(book: PriceBook = DEFAULT_PRICE_BOOK): Dimension[] {
  return [
    ...Object.entries(book.gpu).map(([type, price]) => ({
      eventName: gpuEventName(type),
      displayName: `${type} GPU-milliseconds`,
      centsPerUnit: centsPerMs(price),
    })),
    {
      eventName: 'kiln_cpu_core_ms',
      displayName: 'CPU core-milliseconds',
      centsPerUnit: centsPerMs(book.cpuCore),
    },
    {
      eventName: 'kiln_memory_gib_ms',
      displayName: 'Memory GiB-milliseconds',
      centsPerUnit: centsPerMs(book.memoryGiB),
    },
  ];
}

export function gpuEventName(type: string): string {
  return `kiln_gpu_ms_${type.toLowerCase().replace(/[^a-z0-9]+/g, '_')}`;
}

export interface Catalog {
  basePrice: string;
  meteredPrices: string[];
  meters: Record<string, string>;
}

/**
 * Creates (once) the Team product, its base price and one meter and metered price per dimension; the
 * ids are kept in Postgres and every create carries an idempotency key, so concurrent or repeated
 * runs make each object once.
 */
export async function ensureCatalog(
  db: Db,
  stripe: Stripe,
  options: { baseCents: number; book?: PriceBook },
): Promise<Catalog> {
  const remember = async (key: string, create: () => Promise<{ id: string }>) => {
    const found = await db.stripeCatalogEntry.findUnique({ where: { key } });
    if (found) return found.stripeId;
    const created = await create();
    await db.stripeCatalogEntry.createMany({ data: [{ key, stripeId: created.id }], skipDuplicates: true });
    return (await db.stripeCatalogEntry.findUniqueOrThrow({ where: { key } })).stripeId;
  };
  const product = await remember('product:team', () =>
    stripe.products.create({ name: 'Kiln Team' }, { idempotencyKey: 'kiln:product:team' }),
  );
  const basePrice = await remember('price:team_base', () =>
    stripe.prices.create(
      {
        currency: 'usd',
        product,
        unit_amount: options.baseCents,
        recurring: { interval: 'month' },
        nickname: 'Team base fee',
      },
      { idempotencyKey: 'kiln:price:team_base' },
    ),
  );
  const meters: Record<string, string> = {};
  const meteredPrices: string[] = [];
  for (const dimension of dimensions(options.book)) {
    const meter = await remember(`meter:${dimension.eventName}`, () =>
      stripe.billing.meters.create(
        {
          display_name: dimension.displayName,
          event_name: dimension.eventName,
          default_aggregation: { formula: 'sum' },
          customer_mapping: { type: 'by_id', event_payload_key: 'stripe_customer_id' },
          value_settings: { event_payload_key: 'value' },
        },
        { idempotencyKey: `kiln:meter:${dimension.eventName}` },
      ),
    );
    meters[dimension.eventName] = meter;
    meteredPrices.push(
      await remember(`price:${dimension.eventName}`, () =>
        stripe.prices.create(
          {
            currency: 'usd',
            product,
            unit_amount_decimal: Stripe.Decimal.from(dimension.centsPerUnit),
            recurring: { interval: 'month', usage_type: 'metered', meter },
            nickname: dimension.displayName,
          },
          { idempotencyKey: `kiln:price:${dimension.eventName}` },
        ),
      ),
    );
  }
  return { basePrice, meteredPrices, meters };
}
