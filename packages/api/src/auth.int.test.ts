import { SESSION_TTL_MS, SIGN_IN_LIMITS } from '@kiln/accounts';
import type { TestDatabase } from '@kiln/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, insertUser, outcome, PASSWORD, signedIn, withDatabase } from '../test/harness.ts';

let t: TestDatabase;
beforeAll(async () => {
  t = await withDatabase();
});
afterAll(async () => {
  await t?.drop();
});

describe('sign-up, sign-in and sign-out', () => {
  it('signs up with a personal workspace, signs out and back in', async () => {
    const browser = new Browser(t.db);
    const signUp = await browser.api.auth.signUp({
      email: ' Ada@Example.com ',
      password: PASSWORD,
      name: 'Ada',
    });
    // Open sign-up (the harness's default) signs in at once; only `verify` answers checkEmail.
    if (signUp.checkEmail) throw new Error('expected an account, got "check your email"');
    expect(signUp.user.email).toBe('ada@example.com');
    expect(signUp.personalWorkspace.slug).toMatch(/^ada-s-workspace-[a-z0-9]{6}$/);
    expect(browser.sessionToken).toBeTruthy();
    const me = await browser.api.auth.me();
    expect(me?.user.email).toBe('ada@example.com');
    expect(me?.csrfToken).toBeTruthy();
    const workspaces = await browser.api.workspace.list();
    expect(workspaces).toEqual([
      expect.objectContaining({ slug: signUp.personalWorkspace.slug, role: 'OWNER', personal: true }),
    ]);

    // Only the SHA-256 of the session token is stored.
    const stored = await t.db.session.findMany({ where: { userId: signUp.user.id } });
    expect(stored.map((s) => s.tokenHash)).not.toContain(browser.sessionToken);

    await browser.api.auth.signOut();
    expect(browser.sessionToken).toBeNull();
    expect(await browser.api.auth.me()).toBeNull();

    await expect(
      browser.api.auth.signIn({ email: 'ada@example.com', password: 'wrong password!' }),
    ).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
      message: 'Wrong email or password.',
    });
    const signIn = await browser.api.auth.signIn({ email: 'ADA@example.com', password: PASSWORD });
    expect(signIn.user.id).toBe(signUp.user.id);
    expect((await browser.api.auth.me())?.user.name).toBe('Ada');
  });

  it('refuses a second account with the same email, and short passwords', async () => {
    const user = await insertUser(t.db, 'dup');
    const browser = new Browser(t.db);
    await expect(
      browser.api.auth.signUp({ email: user.email, password: PASSWORD, name: 'Dup' }),
    ).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    await expect(
      browser.api.auth.signUp({ email: 'short@example.com', password: 'short', name: 'S' }),
    ).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      message: 'password: Password must be at least 10 characters',
    });
  });

  it('signs out everywhere, ending every session of the user', async () => {
    const user = await insertUser(t.db, 'everywhere');
    const laptop = new Browser(t.db);
    const phone = new Browser(t.db);
    await laptop.api.auth.signIn({ email: user.email, password: PASSWORD });
    await phone.api.auth.signIn({ email: user.email, password: PASSWORD });
    expect(await phone.api.auth.me()).not.toBeNull();
    await laptop.api.auth.signOutEverywhere();
    expect(await laptop.api.auth.me()).toBeNull();
    expect(await phone.api.auth.me()).toBeNull();
    expect(await t.db.session.count({ where: { userId: user.id } })).toBe(0);
    const audit = await t.db.auditLog.findMany({
      where: { actorId: user.id, action: 'user.sign_out_everywhere' },
    });
    expect(audit).toHaveLength(1);
  });

  it('throttles one address after 5 failures on an account, without locking the owner out elsewhere', async () => {
    const user = await insertUser(t.db, 'limited');
    const browser = new Browser(t.db);
    for (let i = 0; i < SIGN_IN_LIMITS.pair.free; i++) {
      expect(
        await outcome(browser.api.auth.signIn({ email: user.email, password: 'not the password' })),
      ).toBe('UNAUTHORIZED');
    }
    await expect(browser.api.auth.signIn({ email: user.email, password: PASSWORD })).rejects.toMatchObject({
      code: 'TOO_MANY_REQUESTS',
      message: expect.stringMatching(/Try again in \d+ second/),
    });
    // The owner, from their own address, is not locked out by someone else's guesses.
    expect(await outcome(new Browser(t.db).api.auth.signIn({ email: user.email, password: PASSWORD }))).toBe(
      'OK',
    );
    // Once the backoff has passed the guesser's address may try again.
    await t.db.signInThrottle.updateMany({
      where: { key: `pair:${user.email}|${browser.ip}` },
      data: { lastAttempt: new Date(Date.now() - 60_000) },
    });
    expect(await outcome(browser.api.auth.signIn({ email: user.email, password: PASSWORD }))).toBe('OK');
  });

  it('closes the live connections of ended sessions: sign-out, sign-out-everywhere, password change', async () => {
    const user = await insertUser(t.db, 'sockets');
    const ended: string[] = [];
    const services = { onSessionsEnded: ({ userId }: { userId: string }) => void ended.push(userId) };
    await (await signedIn(t.db, user.id, services)).api.auth.signOut();
    expect(ended).toEqual([user.id]);
    await (await signedIn(t.db, user.id, services)).api.auth.signOutEverywhere();
    expect(ended).toEqual([user.id, user.id]);
    await (await signedIn(t.db, user.id, services)).api.account.changePassword({
      currentPassword: PASSWORD,
      newPassword: 'another long enough password',
    });
    expect(ended).toEqual([user.id, user.id, user.id]);
    // Signing out with no session ends nothing.
    await new Browser(t.db, { services }).api.auth.signOut();
    expect(ended).toHaveLength(3);
  });

  it('throttles one IP after 20 attempts across many emails', async () => {
    const attacker = new Browser(t.db, { ip: '203.0.113.9' });
    for (let i = 0; i < SIGN_IN_LIMITS.ip.free; i++) {
      expect(
        await outcome(attacker.api.auth.signIn({ email: `nobody${i}@example.com`, password: 'guess-guess' })),
      ).toBe('UNAUTHORIZED');
    }
    const user = await insertUser(t.db, 'victim');
    expect(await outcome(attacker.api.auth.signIn({ email: user.email, password: PASSWORD }))).toBe(
      'TOO_MANY_REQUESTS',
    );
    // Another IP is unaffected.
    expect(await outcome(new Browser(t.db).api.auth.signIn({ email: user.email, password: PASSWORD }))).toBe(
      'OK',
    );
  });

  it('expires sessions after 30 idle days and slides the expiry while in use', async () => {
    const user = await insertUser(t.db, 'expiry');
    const browser = new Browser(t.db);
    await browser.api.auth.signIn({ email: user.email, password: PASSWORD });
    const session = await t.db.session.findFirstOrThrow({ where: { userId: user.id } });
    expect(session.expiresAt.getTime() - session.createdAt.getTime()).toBe(SESSION_TTL_MS);

    // Used two hours ago: this request pushes the expiry 30 days from now.
    await t.db.session.update({
      where: { id: session.id },
      data: { lastSeenAt: new Date(Date.now() - 2 * 3600_000), expiresAt: new Date(Date.now() + 3600_000) },
    });
    browser.cookieExpiresAt = null;
    expect(await browser.api.auth.me()).not.toBeNull();
    const renewed = await t.db.session.findUniqueOrThrow({ where: { id: session.id } });
    expect(renewed.expiresAt.getTime()).toBeGreaterThan(Date.now() + SESSION_TTL_MS - 60_000);
    // The browser gets the cookie again with the new expiry.
    expect(browser.cookieExpiresAt).toEqual(renewed.expiresAt);

    await t.db.session.update({
      where: { id: session.id },
      data: { expiresAt: new Date(Date.now() - 1000) },
    });
    expect(await browser.api.auth.me()).toBeNull();
    expect(browser.sessionToken).toBeNull();
    expect(await outcome(browser.api.workspace.list())).toBe('UNAUTHORIZED');
  });

  it('changes the password, keeping this session and ending the others', async () => {
    const user = await insertUser(t.db, 'changer');
    const laptop = new Browser(t.db);
    const phone = new Browser(t.db);
    await laptop.api.auth.signIn({ email: user.email, password: PASSWORD });
    await phone.api.auth.signIn({ email: user.email, password: PASSWORD });
    await expect(
      laptop.api.account.changePassword({
        currentPassword: 'wrong password',
        newPassword: 'a new password 123',
      }),
    ).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    await laptop.api.account.changePassword({ currentPassword: PASSWORD, newPassword: 'a new password 123' });
    expect(await laptop.api.auth.me()).not.toBeNull();
    expect(await phone.api.auth.me()).toBeNull();
    const fresh = new Browser(t.db);
    expect(await outcome(fresh.api.auth.signIn({ email: user.email, password: PASSWORD }))).toBe(
      'UNAUTHORIZED',
    );
    expect(await outcome(fresh.api.auth.signIn({ email: user.email, password: 'a new password 123' }))).toBe(
      'OK',
    );
    await laptop.api.account.update({ name: 'Changed Name' });
    expect((await laptop.api.auth.me())?.user.name).toBe('Changed Name');
  });
});
