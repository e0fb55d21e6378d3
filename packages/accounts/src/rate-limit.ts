import { DomainError } from '@kiln/core';
import { type Db, Prisma } from '@kiln/db';

/**
 * Sign-in throttling. Every attempt is counted before the password is checked, with one upsert, so
 * parallel or batched guesses cannot slip past the count. A key's first `free` attempts go through;
 * after that each further attempt must wait `baseDelayMs * 2^(attempts - free)` (capped at
 * `maxDelayMs`) after the previous one. Nothing locks the right password out for long: the owner
 * from their own address is only slowed by their own failures, and the per-account key (which a
 * stranger can push) has a high allowance and a one-minute cap. A successful sign-in is refunded.
 */
export const SIGN_IN_LIMITS = {
  /** A key forgets its attempts after this long without one. */
  idleResetMs: 15 * 60 * 1000,
  baseDelayMs: 1000,
  /** One account from one address: the guesser's own budget. */
  pair: { free: 5, maxDelayMs: 15 * 60 * 1000 },
  /** One address across all accounts: password spraying. */
  ip: { free: 20, maxDelayMs: 15 * 60 * 1000 },
  /** One account from every address: distributed guessing, capped low so it cannot lock the owner out. */
  email: { free: 50, maxDelayMs: 60 * 1000 },
} as const;

type KeyKind = 'pair' | 'ip' | 'email';

/** The throttle keys one attempt counts against. */
export function signInKeys(email: string, ip: string): Record<KeyKind, string> {
  const account = email.toLowerCase();
  return { pair: `pair:${account}|${ip}`, ip: `ip:${ip}`, email: `email:${account}` };
}

function kindOf(key: string): KeyKind {
  return key.slice(0, key.indexOf(':')) as KeyKind;
}

/** Milliseconds a key with `attempts` counted must wait after its last attempt. */
export function signInDelayMs(kind: KeyKind, attempts: number): number {
  const { free, maxDelayMs } = SIGN_IN_LIMITS[kind];
  if (attempts < free) return 0;
  return Math.min(maxDelayMs, SIGN_IN_LIMITS.baseDelayMs * 2 ** Math.min(attempts - free, 30));
}

function throttled(retryAt: Date, now: Date): DomainError {
  const seconds = Math.max(1, Math.ceil((retryAt.getTime() - now.getTime()) / 1000));
  const wait =
    seconds === 1 ? '1 second' : seconds < 90 ? `${seconds} seconds` : `${Math.ceil(seconds / 60)} minutes`;
  return new DomainError('RATE_LIMITED', `Too many sign-in attempts. Try again in ${wait}.`, {
    retryAt: retryAt.toISOString(),
  });
}

/**
 * Counts one sign-in attempt against the account+address, the address and the account, atomically,
 * and throws RATE_LIMITED (without counting it further) when any of them must still wait. A failure
 * to count is a refusal too: the password is only ever checked after the attempt is on record.
 */
export async function countSignInAttempt(
  db: Db,
  input: { email: string; ip: string },
  now = new Date(),
): Promise<void> {
  const keys = Object.values(signInKeys(input.email, input.ip));
  const setting = (pick: (kind: KeyKind) => number) =>
    Prisma.sql`CASE split_part(t."key", ':', 1) WHEN 'pair' THEN ${pick('pair')}::int WHEN 'ip' THEN ${pick('ip')}::int ELSE ${pick('email')}::int END`;
  const free = setting((kind) => SIGN_IN_LIMITS[kind].free);
  const cap = setting((kind) => SIGN_IN_LIMITS[kind].maxDelayMs);
  const idle = Prisma.sql`t."lastAttempt" < ${now}::timestamptz - ${SIGN_IN_LIMITS.idleResetMs} * interval '1 millisecond'`;
  const waitMs = Prisma.sql`LEAST(${cap}, ${SIGN_IN_LIMITS.baseDelayMs} * power(2, LEAST(GREATEST(t.attempts - ${free}, 0), 30)))`;
  const blocked = Prisma.sql`(NOT (${idle}) AND t.attempts >= ${free} AND ${now}::timestamptz < t."lastAttempt" + ${waitMs} * interval '1 millisecond')`;
  let rows: Array<{ key: string; attempts: number; lastAttempt: Date; refusals: number }>;
  try {
    // Row locks taken by ON CONFLICT serialise concurrent attempts on a key: each sees the last count.
    rows = await db.$queryRaw`
      INSERT INTO "SignInThrottle" AS t ("key", attempts, "lastAttempt")
      SELECT k, 1, ${now}::timestamptz FROM unnest(${keys}::text[]) AS k
      ON CONFLICT ("key") DO UPDATE SET
        attempts = CASE WHEN ${idle} THEN 1 WHEN ${blocked} THEN t.attempts ELSE t.attempts + 1 END,
        "lastAttempt" = CASE WHEN ${blocked} THEN t."lastAttempt" ELSE ${now}::timestamptz END,
        refusals = CASE WHEN ${blocked} THEN t.refusals + 1 ELSE 0 END
      RETURNING t."key", t.attempts, t."lastAttempt", t.refusals`;
  } catch (error) {
    console.error('[kiln/accounts] could not count a sign-in attempt; refusing it', error);
    throw new DomainError('RATE_LIMITED', 'Sign-in is busy right now. Try again in a few seconds.');
  }
  let retryAt: Date | null = null;
  for (const row of rows) {
    if (row.refusals === 0) continue;
    const at = new Date(row.lastAttempt.getTime() + signInDelayMs(kindOf(row.key), row.attempts));
    if (!retryAt || at > retryAt) retryAt = at;
  }
  if (retryAt) throw throttled(retryAt, now);
}

/**
 * After a successful sign-in: the account+address starts afresh, and the attempt is taken back from
 * the address and the account, so people signing in behind one address do not use up its allowance.
 */
export async function refundSignInAttempt(db: Db, input: { email: string; ip: string }): Promise<void> {
  const keys = signInKeys(input.email, input.ip);
  await db.$executeRaw`
    UPDATE "SignInThrottle" SET attempts = CASE WHEN "key" = ${keys.pair} THEN 0 ELSE GREATEST(attempts - 1, 0) END
    WHERE "key" IN (${keys.pair}, ${keys.ip}, ${keys.email})`;
}
