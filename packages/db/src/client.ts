import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from './generated/prisma/client.ts';

export type Db = PrismaClient;

/** A Prisma client over node-postgres for `url` (the embedded database speaks the same protocol). */
export function createDb(url: string, options: { max?: number } = {}): Db {
  const adapter = new PrismaPg({ connectionString: url, max: options.max ?? 10 });
  return new PrismaClient({ adapter });
}
