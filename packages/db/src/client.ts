import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from './generated/prisma/client.ts';

export type Db = PrismaClient;

/** A Prisma client over node-postgres for `url` (the embedded database speaks the same protocol). */
export function createDb(url: string, options: { max?: number } = {}): Db {
  // A connection attempt gives up after 10 s (node-postgres waits forever by default), so a database
  // that stopped answering shows up as an error callers can report, not as requests that hang.
  const adapter = new PrismaPg({
    connectionString: url,
    max: options.max ?? 10,
    connectionTimeoutMillis: 10_000,
  });
  return new PrismaClient({ adapter });
}
