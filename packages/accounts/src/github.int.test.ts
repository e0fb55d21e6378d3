import { once } from 'node:events';
import { createServer } from 'node:http';
import type { TestDatabase } from '@kiln/db/testing';
import { createTestDatabase } from '@kiln/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGitHubAuth, fetchGitHubProfile, type GitHubProfile, signInWithGitHub } from './github.ts';
import { createInvitation } from './invitations.ts';
import { TEST_PASSWORD_HASH_OPTIONS } from './password.ts';
import { SIGN_UP_BY_INVITATION, signUp } from './users.ts';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await t?.drop();
});

function profile(overrides: Partial<GitHubProfile> = {}): GitHubProfile {
  return {
    githubId: String(Math.floor(Math.random() * 1e9)),
    login: 'octo',
    name: 'Octo Cat',
    email: null,
    emailVerified: false,
    ...overrides,
  };
}

describe('GitHub sign-in', () => {
  it('builds an authorization URL with state and the email scope', () => {
    const auth = createGitHubAuth({
      clientId: 'cid',
      clientSecret: 's',
      redirectUri: 'http://localhost:3000/auth/github/callback',
    });
    const { url, state } = auth.createAuthorization();
    expect(url.origin + url.pathname).toBe('https://github.com/login/oauth/authorize');
    expect(url.searchParams.get('state')).toBe(state);
    expect(url.searchParams.get('client_id')).toBe('cid');
    expect(url.searchParams.get('scope')).toContain('user:email');
    expect(state.length).toBeGreaterThanOrEqual(32);
  });

  it('reads the profile and primary email from the GitHub API', async () => {
    const server = createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      if (req.headers.authorization !== 'Bearer gho_test') return res.writeHead(401).end('{}');
      if (req.url === '/user') return res.end(JSON.stringify({ id: 42, login: 'octo', name: null }));
      res.end(
        JSON.stringify([
          { email: 'old@example.com', primary: false, verified: true },
          { email: 'Octo@Example.com', primary: true, verified: true },
        ]),
      );
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as { port: number };
    try {
      const got = await fetchGitHubProfile('gho_test', { apiUrl: `http://127.0.0.1:${port}`, fetch });
      expect(got).toEqual({
        githubId: '42',
        login: 'octo',
        name: null,
        email: 'Octo@Example.com',
        emailVerified: true,
      });
      await expect(
        fetchGitHubProfile('bad', { apiUrl: `http://127.0.0.1:${port}`, fetch }),
      ).rejects.toMatchObject({
        code: 'INVALID_CREDENTIALS',
      });
    } finally {
      server.close();
    }
  }, 60_000);

  it('creates a user with a personal workspace, then finds them again by GitHub id', async () => {
    const p = profile({ email: 'new-octo@example.com', emailVerified: true });
    const first = await signInWithGitHub(t.db, p);
    expect(first.created).toBe(true);
    expect(first.user.name).toBe('Octo Cat');
    const workspaces = await t.db.membership.findMany({
      where: { userId: first.user.id },
      include: { workspace: true },
    });
    expect(workspaces).toEqual([
      expect.objectContaining({ role: 'OWNER', workspace: expect.objectContaining({ personal: true }) }),
    ]);
    const again = await signInWithGitHub(t.db, { ...p, email: 'changed@example.com' });
    expect(again).toEqual({ user: first.user, created: false });
  }, 60_000);

  it('never links to an existing account by email, verified or not (no pre-account hijacking)', async () => {
    const existing = await signUp(
      t.db,
      { email: 'linkme@example.com', password: 'a long password', name: 'Link' },
      { passwordHash: TEST_PASSWORD_HASH_OPTIONS },
    );
    await expect(
      signInWithGitHub(t.db, profile({ email: 'linkme@example.com', emailVerified: false })),
    ).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
    // Someone signed up with this address and a password of their choosing (sign-up does not verify
    // email); the address's real owner arriving through GitHub must not be signed into that account.
    await expect(
      signInWithGitHub(t.db, profile({ email: 'LinkMe@example.com', emailVerified: true })),
    ).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringMatching(/not linked to GitHub/) });
    expect((await t.db.user.findUniqueOrThrow({ where: { id: existing.user.id } })).githubId).toBeNull();
    expect(await t.db.session.count({ where: { userId: existing.user.id } })).toBe(0);
  }, 60_000);

  it('creates accounts only for invited addresses when sign-up is by invitation', async () => {
    const invite = { mode: 'invite' as const };
    const stranger = profile({ email: 'uninvited@example.com', emailVerified: true });
    await expect(signInWithGitHub(t.db, stranger, invite)).rejects.toMatchObject({
      code: 'FORBIDDEN',
      message: SIGN_UP_BY_INVITATION,
    });
    expect(await t.db.user.count({ where: { email: 'uninvited@example.com' } })).toBe(0);

    const owner = await t.db.user.findFirstOrThrow();
    const workspace = await t.db.workspace.findFirstOrThrow();
    await createInvitation(t.db, {
      workspaceId: workspace.id,
      invitedById: owner.id,
      email: 'uninvited@example.com',
      role: 'VIEWER',
    });
    expect((await signInWithGitHub(t.db, stranger, invite)).created).toBe(true);
  }, 60_000);
});
