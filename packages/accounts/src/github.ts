import { DomainError } from '@kiln/core';
import type { Db } from '@kiln/db';
import { GitHub, generateState } from 'arctic';
import { recordAudit } from './audit.ts';
import type { PublicUser, SignUpMode } from './users.ts';
import { normalizeEmail, personalWorkspaceName, SIGN_UP_BY_INVITATION } from './users.ts';
import { createWorkspaceTx, retryOnSlugRace } from './workspaces.ts';

/** What Kiln needs from a GitHub account. */
export interface GitHubProfile {
  githubId: string;
  login: string;
  name: string | null;
  /** The primary email, and whether GitHub has verified it. */
  email: string | null;
  emailVerified: boolean;
}

export interface GitHubAuth {
  /** Where to send the browser, and the state to keep in a short-lived cookie. */
  createAuthorization(): { url: URL; state: string };
  /** Exchanges the callback code for a token and fetches the profile and primary email. */
  validateCallback(code: string): Promise<GitHubProfile>;
}

/** GitHub OAuth via arctic. `apiUrl` and `fetch` exist for GitHub Enterprise and tests. */
export function createGitHubAuth(options: {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  apiUrl?: string;
  fetch?: typeof fetch;
}): GitHubAuth {
  const github = new GitHub(options.clientId, options.clientSecret, options.redirectUri);
  const apiUrl = options.apiUrl ?? 'https://api.github.com';
  const doFetch = options.fetch ?? fetch;
  return {
    createAuthorization() {
      const state = generateState();
      return { url: github.createAuthorizationURL(state, ['read:user', 'user:email']), state };
    },
    async validateCallback(code) {
      let accessToken: string;
      try {
        accessToken = (await github.validateAuthorizationCode(code)).accessToken();
      } catch {
        throw new DomainError('INVALID_CREDENTIALS', 'GitHub sign-in failed; try again.');
      }
      return fetchGitHubProfile(accessToken, { apiUrl, fetch: doFetch });
    },
  };
}

/** Reads the user and primary email from GitHub's REST API with an access token. */
export async function fetchGitHubProfile(
  accessToken: string,
  options: { apiUrl: string; fetch: typeof fetch },
): Promise<GitHubProfile> {
  const headers = {
    Authorization: `Bearer ${accessToken}`,
    Accept: 'application/vnd.github+json',
    'User-Agent': 'kiln',
  };
  const userResponse = await options.fetch(`${options.apiUrl}/user`, { headers });
  if (!userResponse.ok) throw new DomainError('INVALID_CREDENTIALS', 'GitHub sign-in failed; try again.');
  const user = (await userResponse.json()) as { id: number; login: string; name: string | null };
  const emailsResponse = await options.fetch(`${options.apiUrl}/user/emails`, { headers });
  const emails = emailsResponse.ok
    ? ((await emailsResponse.json()) as { email: string; primary: boolean; verified: boolean }[])
    : [];
  const primary = emails.find((entry) => entry.primary) ?? null;
  return {
    githubId: String(user.id),
    login: user.login,
    name: user.name,
    email: primary?.email ?? null,
    emailVerified: primary?.verified ?? false,
  };
}

/**
 * Finds or creates the Kiln user for a GitHub profile: by GitHub id, otherwise a new user with a
 * personal workspace. An existing account with the same email is never linked: Kiln does not verify
 * the email a password account signs up with, so anyone could have made that account first and would
 * then share it with the real owner (pre-account hijacking). That account's owner signs in with its
 * password instead.
 */
export async function signInWithGitHub(
  db: Db,
  profile: GitHubProfile,
  options: { ip?: string | null; mode?: SignUpMode; now?: Date } = {},
): Promise<{ user: PublicUser; created: boolean }> {
  const select = { id: true, email: true, name: true } as const;
  const byId = await db.user.findUnique({ where: { githubId: profile.githubId }, select });
  if (byId) {
    await recordAudit(db, {
      action: 'user.sign_in',
      actorId: byId.id,
      target: byId.email,
      metadata: { via: 'github' },
      ip: options.ip,
    });
    return { user: byId, created: false };
  }
  if (!profile.email || !profile.emailVerified) {
    throw new DomainError(
      'BAD_REQUEST',
      'Your GitHub account has no verified primary email; verify one on GitHub and try again.',
    );
  }
  const email = normalizeEmail(profile.email);
  const byEmail = await db.user.findUnique({ where: { email }, select: { githubId: true } });
  if (byEmail) {
    throw new DomainError(
      'CONFLICT',
      byEmail.githubId
        ? 'This email is already linked to another GitHub account.'
        : 'A Kiln account with this email already exists. Sign in with its password; it is not linked to GitHub automatically.',
    );
  }
  // GitHub verified the address, so a pending invitation to it is enough; no link token is needed.
  if (options.mode === 'invite' && !(await invitedOrFirst(db, email, options.now ?? new Date()))) {
    throw new DomainError('FORBIDDEN', SIGN_UP_BY_INVITATION);
  }
  const name = (profile.name?.trim() || profile.login).slice(0, 100);
  const user = await retryOnSlugRace(
    () =>
      db.$transaction(async (tx) => {
        const created = await tx.user.create({ data: { email, name, githubId: profile.githubId }, select });
        await createWorkspaceTx(tx, created.id, {
          name: personalWorkspaceName(name),
          personal: true,
          ip: options.ip,
        });
        await recordAudit(tx, {
          action: 'user.sign_up',
          actorId: created.id,
          target: email,
          metadata: { via: 'github' },
          ip: options.ip,
        });
        return created;
      }),
    async () =>
      (await db.user.count({ where: { OR: [{ email }, { githubId: profile.githubId }] } })) > 0
        ? new DomainError('CONFLICT', 'This account was just created; sign in again.')
        : null,
  );
  return { user, created: true };
}

async function invitedOrFirst(db: Db, email: string, now: Date): Promise<boolean> {
  const invited = await db.invitation.count({
    where: { email, acceptedAt: null, revokedAt: null, expiresAt: { gt: now } },
  });
  return invited > 0 || (await db.user.count()) === 0;
}
