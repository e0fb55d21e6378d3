import { DomainError, isDomainError } from '@kiln/core';
import type { Db } from '@kiln/db';
import { findUsableInvitation } from './invitation-lookup.ts';
import { acceptInvitationById } from './invitations.ts';
import type { Mailer, MailMessage } from './mailer.ts';
import { DEFAULT_PASSWORD_HASH_OPTIONS, hashPassword, type PasswordHashOptions } from './password.ts';
import { countSignInAttempt } from './rate-limit.ts';
import { randomToken, sha256 } from './tokens.ts';
import { createPasswordAccount, normalizeEmail, type PublicUser } from './users.ts';

/** How long a confirmation link works. */
export const SIGN_UP_LINK_TTL_MS = 24 * 60 * 60 * 1000;

export interface SignUpRequestOptions {
  mailer: Mailer;
  /** Base URL of links in emails, e.g. https://kiln.example.com. */
  appUrl: string;
  passwordHash?: PasswordHashOptions;
  now?: Date;
}

/**
 * Sign-up that confirms the address first (KILN_SIGN_UP=verify). The caller always hears the same
 * thing ("check your email"), having done the same work: the password is hashed and one email goes
 * out either way. A free address gets a link that creates the account; an address that already has
 * one gets a note saying so, which only its owner reads. Mail that fails to send is logged, never
 * answered differently.
 */
export async function requestSignUp(
  db: Db,
  input: { email: string; password: string; name: string; ip?: string | null; invitation?: string },
  options: SignUpRequestOptions,
): Promise<void> {
  const email = normalizeEmail(input.email);
  if (input.ip) await countSignInAttempt(db, { email, ip: input.ip });
  const now = options.now ?? new Date();
  const passwordHash = await hashPassword(
    input.password,
    options.passwordHash ?? DEFAULT_PASSWORD_HASH_OPTIONS,
  );
  const existing = await db.user.findUnique({ where: { email }, select: { id: true } });
  let message: MailMessage;
  if (existing) {
    message = existingAccountEmail({ to: email, signInUrl: `${options.appUrl}/sign-in` });
  } else {
    const token = randomToken(32);
    // Coming from an invitation to this address: confirming the link joins its workspace too.
    const invitation = await findUsableInvitation(db, input.invitation, email, now);
    await db.$transaction([
      // Only the newest link of an address works.
      db.pendingSignUp.deleteMany({ where: { email } }),
      db.pendingSignUp.create({
        data: {
          tokenHash: sha256(token),
          email,
          name: input.name,
          passwordHash,
          invitationId: invitation?.id ?? null,
          expiresAt: new Date(now.getTime() + SIGN_UP_LINK_TTL_MS),
        },
      }),
    ]);
    message = confirmSignUpEmail({
      to: email,
      url: `${options.appUrl}/sign-up/confirm/${token}`,
      expiresAt: new Date(now.getTime() + SIGN_UP_LINK_TTL_MS),
    });
  }
  await options.mailer
    .send(message)
    .catch((error: unknown) => console.error('[kiln/accounts] could not send a sign-up email', error));
}

/**
 * Creates the account a confirmation link stands for (once); NOT_FOUND for a link that is unknown,
 * used or expired. A sign-up started from an invitation also joins that workspace with the invited
 * role (`joined`), unless the invitation was revoked, used or expired meanwhile.
 */
export async function confirmSignUp(
  db: Db,
  input: { token: string; ip?: string | null },
  now = new Date(),
): Promise<{
  user: PublicUser;
  personalWorkspace: { id: string; slug: string; name: string };
  joined: { workspaceId: string; slug: string } | null;
}> {
  const invalid = new DomainError(
    'NOT_FOUND',
    'This link is not valid any more; sign up again to get a new one.',
  );
  if (input.token.length === 0 || input.token.length > 200) throw invalid;
  const pending = await db.pendingSignUp.findUnique({ where: { tokenHash: sha256(input.token) } });
  if (!pending || pending.expiresAt.getTime() <= now.getTime()) throw invalid;
  // Whoever deletes the row first creates the account: a link opened twice at once counts once.
  const claimed = await db.pendingSignUp.deleteMany({ where: { id: pending.id } });
  if (claimed.count === 0) throw invalid;
  const created = await createPasswordAccount(db, {
    email: pending.email,
    name: pending.name,
    passwordHash: pending.passwordHash,
    ip: input.ip,
    via: 'email confirmation',
  });
  const joined = pending.invitationId
    ? await acceptInvitationById(
        db,
        { userId: created.user.id, invitationId: pending.invitationId, ip: input.ip },
        now,
      ).catch((error: unknown) => {
        // The account exists either way; an invitation that lapsed meanwhile only means no workspace to join.
        if (isDomainError(error)) return null;
        throw error;
      })
    : null;
  return { ...created, joined };
}

function confirmSignUpEmail(input: { to: string; url: string; expiresAt: Date }): MailMessage {
  const text = [
    'Someone, hopefully you, asked to create a Kiln account with this email address.',
    '',
    `Confirm it and create the account: ${input.url}`,
    '',
    `The link works once and expires on ${input.expiresAt.toUTCString()}.`,
    'If you did not ask for an account, ignore this email: nothing is created without the link.',
  ].join('\n');
  return { to: input.to, subject: 'Confirm your Kiln account', text };
}

function existingAccountEmail(input: { to: string; signInUrl: string }): MailMessage {
  const text = [
    'Someone, hopefully you, tried to create a Kiln account with this email address, but it already has one.',
    '',
    `Sign in instead: ${input.signInUrl}`,
    '',
    'If this was not you, you can ignore this email: nothing about your account changed.',
  ].join('\n');
  return { to: input.to, subject: 'You already have a Kiln account', text };
}
