import { createTestDatabase, type TestDatabase } from '@kiln/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acceptInvitation, createInvitation } from './invitations.ts';
import { TEST_PASSWORD_HASH_OPTIONS } from './password.ts';
import { SIGN_UP_BY_INVITATION, signUp } from './users.ts';

// Sign-up by invitation: what a stranger trying addresses learns must not depend on whether the
// address has an account.
let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
}, 60_000);
afterAll(async () => {
  await database?.drop();
});

const password = 'a long enough password';
const invite = { passwordHash: TEST_PASSWORD_HASH_OPTIONS, mode: 'invite' as const };

async function answer(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
    return 'signed up';
  } catch (error) {
    const { code, message, details } = error as { code?: string; message: string; details?: unknown };
    return { code, message, details };
  }
}

describe('sign-up by invitation', () => {
  it('lets the first account in, then answers every uninvited address the same, taken or not', async () => {
    const db = database.db;
    const first = await signUp(
      db,
      { email: 'operator@kiln.test', password, name: 'Op', ip: '198.51.100.1' },
      invite,
    );
    const taken = await answer(
      signUp(db, { email: 'operator@kiln.test', password, name: 'X', ip: '198.51.100.2' }, invite),
    );
    const free = await answer(
      signUp(db, { email: 'nobody-yet@kiln.test', password, name: 'X', ip: '198.51.100.2' }, invite),
    );
    expect(free).toEqual({ code: 'FORBIDDEN', message: SIGN_UP_BY_INVITATION, details: undefined });
    expect(taken).toEqual(free);
    // Open sign-up still tells the two apart: that is the trade-off its operator chose.
    expect(
      await answer(
        signUp(db, { email: 'operator@kiln.test', password, name: 'X' }, { ...invite, mode: 'open' }),
      ),
    ).toMatchObject({ code: 'EMAIL_TAKEN' });

    // An invitation lets exactly its address in, once; anyone else holding the link gets the same refusal.
    const invitation = await createInvitation(db, {
      workspaceId: first.personalWorkspace.id,
      invitedById: first.user.id,
      email: 'Invited@Kiln.test',
      role: 'EDITOR',
    });
    const token = invitation.token;
    expect(
      await answer(signUp(db, { email: 'other@kiln.test', password, name: 'O', invitation: token }, invite)),
    ).toEqual(free);
    const joined = await signUp(
      db,
      { email: 'invited@kiln.test', password, name: 'In', invitation: token },
      invite,
    );
    await acceptInvitation(db, { userId: joined.user.id, token });
    expect(
      await answer(signUp(db, { email: 'later@kiln.test', password, name: 'L', invitation: token }, invite)),
    ).toEqual(free);
    expect(await db.user.count()).toBe(2);
  }, 60_000);
});
