import { DomainError } from '@kiln/core';
import type { Db, Prisma } from '@kiln/db';
import { DEFAULT_PRICE_BOOK, type PriceBook, validatePriceBook } from './price-book.ts';

type Client = Db | Prisma.TransactionClient;

export interface PriceVersionView {
  id: number;
  effectiveFrom: Date;
  book: PriceBook;
  note: string | null;
}

/** The price book in force at `at`; the first call on an empty database records `initial` as version 1. */
export async function priceVersionAt(
  db: Client,
  at: Date,
  initial: PriceBook = DEFAULT_PRICE_BOOK,
): Promise<PriceVersionView> {
  const found = await db.priceVersion.findFirst({
    where: { effectiveFrom: { lte: at } },
    orderBy: [{ effectiveFrom: 'desc' }, { id: 'desc' }],
  });
  if (found) return view(found);
  // Version 1 starts at the epoch so every slice, however old, has a price. Two processes may race
  // here; the insert only happens when the table is still empty.
  await db.$executeRaw`
    INSERT INTO "PriceVersion" ("effectiveFrom", prices, note)
    SELECT to_timestamp(0), ${JSON.stringify(initial)}::jsonb, 'default price book'
    WHERE NOT EXISTS (SELECT 1 FROM "PriceVersion")`;
  const first = await db.priceVersion.findFirst({ orderBy: [{ effectiveFrom: 'asc' }, { id: 'asc' }] });
  if (!first) throw new Error('no price version after inserting the default');
  return view(first);
}

/**
 * Publishes a new price book from `effectiveFrom` on (default: now). The past cannot be repriced:
 * slices copy their rates when they open, and a version may not start before the database's now.
 */
export async function publishPriceBook(
  db: Db,
  book: PriceBook,
  options: { effectiveFrom?: Date; note?: string; createdById?: string } = {},
): Promise<PriceVersionView> {
  validatePriceBook(book);
  await priceVersionAt(db, new Date(0));
  const [row] = await db.$queryRaw<{ now: Date }[]>`SELECT clock_timestamp() AS now`;
  const now = row?.now ?? new Date();
  const effectiveFrom = options.effectiveFrom ?? now;
  if (effectiveFrom.getTime() < now.getTime() - 1000)
    throw new DomainError(
      'VALIDATION_FAILED',
      'A price change cannot start in the past; past usage keeps its price',
    );
  const created = await db.priceVersion.create({
    data: {
      effectiveFrom,
      prices: book as unknown as Prisma.InputJsonValue,
      note: options.note ?? null,
      createdById: options.createdById ?? null,
    },
  });
  return view(created);
}

/** Every version, newest first. */
export async function listPriceVersions(db: Db): Promise<PriceVersionView[]> {
  const rows = await db.priceVersion.findMany({ orderBy: [{ effectiveFrom: 'desc' }, { id: 'desc' }] });
  return rows.map(view);
}

function view(row: {
  id: number;
  effectiveFrom: Date;
  prices: unknown;
  note: string | null;
}): PriceVersionView {
  return { id: row.id, effectiveFrom: row.effectiveFrom, book: row.prices as PriceBook, note: row.note };
}
