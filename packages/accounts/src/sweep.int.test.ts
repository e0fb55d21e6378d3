import { createTestDatabase, type TestDatabase } from '@kiln/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_PASSWORD_HASH_OPTIONS } from './password.ts';
import { countSignInAttempt, SIGN_IN_LIMITS } from './rate-limit.ts';
import { createSession, resolveSession, SESSION_TTL_MS } from './sessions.ts';
import { sweepExpiredRecords } from './sweep.ts';
import { signUp } from './users.ts';

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.drop();
});

describe('sweeping expired records', () => {
  it('deletes expired sessions and idle sign-in throttle rows, and nothing still in use', async () => {
    const { db } = database;
    const { user } = await signUp(
      db,
      { email: 'sweep@kiln.test', password: 'a long enough password', name: 'S' },
      { passwordHash: TEST_PASSWORD_HASH_OPTIONS },
    );
    const now = new Date();
    const longAgo = new Date(now.getTime() - SESSION_TTL_MS - 60_000);
    const stale = await createSession(db, { userId: user.id }, longAgo);
    const live = await createSession(db, { userId: user.id }, now);
    const beforeWindow = new Date(now.getTime() - SIGN_IN_LIMITS.idleResetMs - 60_000);
    await countSignInAttempt(db, { email: 'old@kiln.test', ip: '192.0.2.1' }, beforeWindow);
    await countSignInAttempt(db, { email: 'new@kiln.test', ip: '192.0.2.2' }, now);

    expect(await sweepExpiredRecords(db, now)).toEqual({
      sessions: 1,
      signInThrottles: 3,
      pendingSignUps: 0,
    });
    expect(await db.session.findUnique({ where: { id: stale.session.id } })).toBeNull();
    expect(await resolveSession(db, live.token, now)).not.toBeNull();
    expect((await db.signInThrottle.findMany({ orderBy: { key: 'asc' } })).map((row) => row.key)).toEqual([
      'email:new@kiln.test',
      'ip:192.0.2.2',
      'pair:new@kiln.test|192.0.2.2',
    ]);
    // Nothing left to sweep.
    expect(await sweepExpiredRecords(db, now)).toEqual({
      sessions: 0,
      signInThrottles: 0,
      pendingSignUps: 0,
    });
  });
});
