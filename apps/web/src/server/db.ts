import { createDb, type Db } from '@kiln/db';
import { getEnv } from '../env.ts';

// Next bundles route handlers separately from server.ts, so a plain module-level variable would
// exist twice; a global keyed by a registered symbol gives one Prisma client per process.
const DB_KEY = Symbol.for('kiln.web.db');
type DbHolder = { [DB_KEY]?: Db };

/** The process-wide Prisma client. */
export function getDb(): Db {
  const holder = globalThis as DbHolder;
  holder[DB_KEY] ??= createDb(getEnv().databaseUrl);
  return holder[DB_KEY];
}

/** Disconnects the process-wide client, if one was made. */
export async function closeDb(): Promise<void> {
  const holder = globalThis as DbHolder;
  const db = holder[DB_KEY];
  delete holder[DB_KEY];
  await db?.$disconnect();
}
