import { createTestDatabase, type TestDatabase } from '@kiln/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_PASSWORD_HASH_OPTIONS } from './password.ts';
import { countSignInAttempt, SIGN_IN_LIMITS, signInDelayMs } from './rate-limit.ts';
import { signInWithPassword, signUp } from './users.ts';

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.drop();
});

const PASSWORD = 'the right password, long enough';
const options = { passwordHash: TEST_PASSWORD_HASH_OPTIONS };

async function account(tag: string): Promise<string> {
  const email = `${tag}-${crypto.randomUUID().slice(0, 8)}@kiln.test`;
  await signUp(database.db, { email, password: PASSWORD, name: tag }, options);
  return email;
}

async function outcome(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'OK';
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
}

describe('sign-in throttling', () => {
  it('lets exactly the free attempts through when 25 guesses arrive at once', async () => {
    const email = await account('parallel');
    const results = await Promise.all(
      Array.from({ length: 25 }, () =>
        outcome(signInWithPassword(database.db, { email, password: 'guess', ip: '198.51.100.1' }, options)),
      ),
    );
    expect(results.filter((r) => r === 'INVALID_CREDENTIALS')).toHaveLength(SIGN_IN_LIMITS.pair.free);
    expect(results.filter((r) => r === 'RATE_LIMITED')).toHaveLength(25 - SIGN_IN_LIMITS.pair.free);
    // The right password from the guesser's address waits too: it is not checked before the count.
    expect(
      await outcome(
        signInWithPassword(database.db, { email, password: PASSWORD, ip: '198.51.100.1' }, options),
      ),
    ).toBe('RATE_LIMITED');
  });

  it('does not lock the owner out: another address signs in with the right password', async () => {
    const email = await account('owner');
    for (let i = 0; i < SIGN_IN_LIMITS.pair.free + 3; i++) {
      await outcome(
        signInWithPassword(database.db, { email, password: 'guess', ip: '198.51.100.2' }, options),
      );
    }
    expect(
      await outcome(
        signInWithPassword(database.db, { email, password: PASSWORD, ip: '192.0.2.50' }, options),
      ),
    ).toBe('OK');
  });

  it('backs off: each attempt past the free ones waits twice as long as the last', async () => {
    const input = { email: 'backoff@kiln.test', ip: '198.51.100.3' };
    let now = Date.now();
    for (let i = 0; i < SIGN_IN_LIMITS.pair.free; i++)
      await countSignInAttempt(database.db, input, new Date(now));
    const refusal = await countSignInAttempt(database.db, input, new Date(now + 500)).catch((e) => e);
    expect(refusal).toMatchObject({
      code: 'RATE_LIMITED',
      message: expect.stringMatching(/Try again in 1 second\b/),
    });
    // Each allowed attempt doubles the next wait: 1 s, 2 s, 4 s.
    for (const wait of [1000, 2000, 4000]) {
      expect(
        signInDelayMs(
          'pair',
          (
            await database.db.signInThrottle.findUniqueOrThrow({
              where: { key: `pair:${input.email}|${input.ip}` },
            })
          ).attempts,
        ),
      ).toBe(wait);
      await expect(countSignInAttempt(database.db, input, new Date(now + wait - 100))).rejects.toMatchObject({
        code: 'RATE_LIMITED',
      });
      now += wait;
      await countSignInAttempt(database.db, input, new Date(now));
    }
    // After a quiet spell the key starts afresh.
    await countSignInAttempt(database.db, input, new Date(now + SIGN_IN_LIMITS.idleResetMs + 1000));
  });

  it('slows down probing which emails have accounts through sign-up', async () => {
    const taken = await account('taken');
    const ip = '198.51.100.9';
    const tries: string[] = [];
    for (let i = 0; i < SIGN_IN_LIMITS.pair.free + 1; i++) {
      tries.push(
        await outcome(signUp(database.db, { email: taken, password: PASSWORD, name: 'x', ip }, options)),
      );
    }
    expect(tries.slice(0, SIGN_IN_LIMITS.pair.free)).toEqual(
      Array(SIGN_IN_LIMITS.pair.free).fill('EMAIL_TAKEN'),
    );
    expect(tries.at(-1)).toBe('RATE_LIMITED');
    // Signing up new people from one address costs nothing.
    for (let i = 0; i < SIGN_IN_LIMITS.ip.free + 2; i++) {
      const email = `fresh-${i}-${crypto.randomUUID().slice(0, 6)}@kiln.test`;
      expect(
        await outcome(
          signUp(database.db, { email, password: PASSWORD, name: 'f', ip: '198.51.100.10' }, options),
        ),
      ).toBe('OK');
    }
  }, 120_000);

  it('refuses, without checking the password, when the attempt cannot be recorded', async () => {
    const broken = await createTestDatabase();
    try {
      const email = `norecord-${crypto.randomUUID().slice(0, 8)}@kiln.test`;
      await signUp(broken.db, { email, password: PASSWORD, name: 'n' }, options);
      await broken.db.$executeRawUnsafe('ALTER TABLE "SignInThrottle" RENAME TO "Elsewhere"');
      for (const password of [PASSWORD, 'wrong']) {
        await expect(
          signInWithPassword(broken.db, { email, password, ip: '198.51.100.4' }, options),
        ).rejects.toMatchObject({ code: 'RATE_LIMITED', message: expect.stringMatching(/busy/) });
      }
    } finally {
      await broken.drop();
    }
  });
});
