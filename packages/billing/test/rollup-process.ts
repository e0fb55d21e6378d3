/**
 * A Stripe usage rollup in its own OS process, for tests that kill it with SIGKILL mid-transaction:
 * `node --import tsx rollup-process.ts <database url> <now, epoch ms>`. Its connections carry the
 * application name `kiln-rollup-process`, so a test can find its backend in pg_stat_activity and
 * pg_locks. Prints `{"created": n}` and exits 0 when the run committed.
 */
import { createDb } from '@kiln/db';
import { rollupUsage } from '../src/stripe/outbox.ts';

const ROLLUP_PROCESS_APPLICATION = 'kiln-rollup-process';

const [url, now] = process.argv.slice(2);
if (!url || !now) throw new Error('usage: rollup-process.ts <database url> <now epoch ms>');
const named = new URL(url);
named.searchParams.set('application_name', ROLLUP_PROCESS_APPLICATION);
const db = createDb(named.toString(), { max: 1 });
const created = await rollupUsage(db, new Date(Number(now)));
await db.$disconnect();
process.stdout.write(`${JSON.stringify({ created })}\n`);
