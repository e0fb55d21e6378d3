import { DomainError } from '@kiln/core';
import type { Db } from '@kiln/db';
import { revokeUserApiTokens } from './api-tokens.ts';
import { recordAudit } from './audit.ts';
import { findUsableInvitation } from './invitation-lookup.ts';
import {
  DEFAULT_PASSWORD_HASH_OPTIONS,
  hashPassword,
  type PasswordHashOptions,
  verifyAgainstDummy,
  verifyPassword,
} from './password.ts';
import { countSignInAttempt, refundSignInAttempt } from './rate-limit.ts';
import { deleteUserSessions } from './sessions.ts';
import { createWorkspaceTx, retryOnSlugRace } from './workspaces.ts';

export interface PublicUser {
  id: string;
  email: string;
  name: string;
}

export interface PasswordOptions {
  passwordHash?: PasswordHashOptions;
}

/**
 * Who may create an account with a password. `open`: anyone; "this email has an account" is then an
 * answer about someone else, only throttled. `invite`: the first account of an instance, and after
 * that only the address an invitation was sent to, with its link; everyone else gets the same refusal
 * whether or not their address has an account, so sign-up tells a stranger nothing. `verify`: anyone,
 * but the account is made only from a link mailed to the address (see sign-up-verification.ts), so
 * here too every sign-up gets the same answer; `signUp` refuses outright in this mode.
 */
export type SignUpMode = 'open' | 'invite' | 'verify';

export interface SignUpOptions extends PasswordOptions {
  mode?: SignUpMode;
  now?: Date;
}

/** The one answer `invite` mode gives every sign-up it does not let through. */
export const SIGN_UP_BY_INVITATION =
  'Accounts on this Kiln are created from invitations: ask a workspace admin to invite your email address, then use the link they send you.';

/** Whether `invite` mode lets this sign-up through: the instance's first account, or the invited address with its link. */
async function signUpAllowed(
  db: Db,
  email: string,
  invitation: string | undefined,
  now: Date,
): Promise<boolean> {
  if (await findUsableInvitation(db, invitation, email, now)) return true;
  return (await db.user.count()) === 0;
}

/** The canonical form of an email address: trimmed and lower-cased. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** Name of the workspace every new account gets. */
export function personalWorkspaceName(name: string): string {
  return `${name}'s workspace`.slice(0, 100);
}

/** Creates an account with a password and its personal workspace. */
export async function signUp(
  db: Db,
  input: { email: string; password: string; name: string; ip?: string | null; invitation?: string },
  options: SignUpOptions = {},
): Promise<{ user: PublicUser; personalWorkspace: { id: string; slug: string; name: string } }> {
  const email = normalizeEmail(input.email);
  // "This email has an account" is an answer about someone else: each probe counts against the
  // address like a failed sign-in (and is refunded on success), so probing a list of emails stalls.
  if (input.ip) await countSignInAttempt(db, { email, ip: input.ip });
  if (options.mode === 'verify') {
    throw new DomainError('FORBIDDEN', 'Sign-up on this Kiln confirms your email address first.');
  }
  if (
    options.mode === 'invite' &&
    !(await signUpAllowed(db, email, input.invitation, options.now ?? new Date()))
  ) {
    throw new DomainError('FORBIDDEN', SIGN_UP_BY_INVITATION);
  }
  const existing = await db.user.findUnique({ where: { email }, select: { id: true } });
  if (existing) {
    throw new DomainError('EMAIL_TAKEN', 'An account with this email already exists; sign in instead.', {
      field: 'email',
    });
  }
  const passwordHash = await hashPassword(
    input.password,
    options.passwordHash ?? DEFAULT_PASSWORD_HASH_OPTIONS,
  );
  const created = await createPasswordAccount(db, { email, name: input.name, passwordHash, ip: input.ip });
  if (input.ip) {
    await refundSignInAttempt(db, { email, ip: input.ip }).catch((error: unknown) =>
      console.error('[kiln/accounts] could not refund a sign-up attempt', error),
    );
  }
  return created;
}

/** The account and personal workspace of a checked sign-up; EMAIL_TAKEN when the address got one meanwhile. */
export async function createPasswordAccount(
  db: Db,
  input: { email: string; name: string; passwordHash: string; ip?: string | null; via?: string },
): Promise<{ user: PublicUser; personalWorkspace: { id: string; slug: string; name: string } }> {
  const { email, passwordHash } = input;
  const emailTaken = () =>
    new DomainError('EMAIL_TAKEN', 'An account with this email already exists; sign in instead.', {
      field: 'email',
    });
  return retryOnSlugRace(
    () =>
      db.$transaction(async (tx) => {
        const user = await tx.user.create({
          data: { email, name: input.name, passwordHash },
          select: { id: true, email: true, name: true },
        });
        const personalWorkspace = await createWorkspaceTx(tx, user.id, {
          name: personalWorkspaceName(user.name),
          personal: true,
          ip: input.ip,
        });
        await recordAudit(tx, {
          action: 'user.sign_up',
          actorId: user.id,
          target: email,
          ip: input.ip,
          ...(input.via ? { metadata: { via: input.via } } : {}),
        });
        return { user, personalWorkspace };
      }),
    async () => ((await db.user.count({ where: { email } })) > 0 ? emailTaken() : null),
  );
}

/**
 * Checks an email and password. The attempt is counted (and may be refused) before the password is
 * looked at; unknown emails cost the same time as wrong passwords and get the same message. Audit
 * rows are best effort here: a write that fails must not turn into a 500 that tells a guesser more
 * than "wrong email or password" would.
 */
export async function signInWithPassword(
  db: Db,
  input: { email: string; password: string; ip: string },
  options: PasswordOptions = {},
): Promise<PublicUser> {
  const email = normalizeEmail(input.email);
  await countSignInAttempt(db, { email, ip: input.ip });
  const user = await db.user.findUnique({ where: { email } });
  const ok = user?.passwordHash
    ? await verifyPassword(user.passwordHash, input.password)
    : await verifyAgainstDummy(input.password, options.passwordHash);
  const audit = (action: 'user.sign_in' | 'user.sign_in_failed', actorId: string | null) =>
    recordAudit(db, { action, actorId, target: email, ip: input.ip }).catch((error: unknown) =>
      console.error(`[kiln/accounts] could not record ${action}`, error),
    );
  if (!user || !ok) {
    await audit('user.sign_in_failed', user?.id ?? null);
    throw new DomainError('INVALID_CREDENTIALS', 'Wrong email or password.');
  }
  await refundSignInAttempt(db, { email, ip: input.ip }).catch((error: unknown) =>
    console.error('[kiln/accounts] could not refund a sign-in attempt', error),
  );
  await audit('user.sign_in', user.id);
  return { id: user.id, email: user.email, name: user.name };
}

/** Changes the display name. */
export async function updateUserName(db: Db, userId: string, name: string): Promise<PublicUser> {
  return db.user.update({
    where: { id: userId },
    data: { name },
    select: { id: true, email: true, name: true },
  });
}

/**
 * Replaces the password after checking the current one, and ends every other session and every API
 * token of the user.
 * Accounts made through GitHub have no password yet and may set one without a current password.
 */
export async function changePassword(
  db: Db,
  input: {
    userId: string;
    currentPassword: string;
    newPassword: string;
    keepSessionId?: string;
    ip?: string | null;
  },
  options: PasswordOptions = {},
): Promise<void> {
  const user = await db.user.findUnique({ where: { id: input.userId } });
  if (!user) throw new DomainError('UNAUTHENTICATED', 'Sign in again to continue.');
  if (user.passwordHash && !(await verifyPassword(user.passwordHash, input.currentPassword))) {
    throw new DomainError('INVALID_CREDENTIALS', 'Your current password is wrong.', {
      field: 'currentPassword',
    });
  }
  const passwordHash = await hashPassword(
    input.newPassword,
    options.passwordHash ?? DEFAULT_PASSWORD_HASH_OPTIONS,
  );
  await db.user.update({ where: { id: user.id }, data: { passwordHash } });
  await deleteUserSessions(db, user.id, { exceptSessionId: input.keepSessionId });
  await revokeUserApiTokens(db, user.id);
  await recordAudit(db, {
    action: 'user.password_changed',
    actorId: user.id,
    target: user.email,
    ip: input.ip,
  });
}
