import type { TestDatabase } from '@kiln/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, createTeam, insertUser, outcome, PASSWORD, withDatabase } from '../test/harness.ts';
import { CSRF_FAILED_MESSAGE } from './trpc.ts';

let t: TestDatabase;
beforeAll(async () => {
  t = await withDatabase();
});
afterAll(async () => {
  await t?.drop();
});

describe('CSRF protection', () => {
  it('refuses a signed-in mutation without the header or with a wrong one, and allows queries', async () => {
    const team = await createTeam(t.db);
    const owner = team.browsers.owner;
    const workspaceId = team.workspace.id;

    owner.csrfHeader = null;
    await expect(owner.api.notebook.create({ workspaceId, name: 'Forged' })).rejects.toMatchObject({
      code: 'FORBIDDEN',
      message: CSRF_FAILED_MESSAGE,
    });
    // Queries stay readable without the header.
    expect(await owner.api.notebook.list({ workspaceId })).toHaveLength(1);

    owner.csrfHeader = 'not-the-token';
    expect(await outcome(owner.api.notebook.create({ workspaceId, name: 'Forged' }))).toBe('FORBIDDEN');
    // The signed-out double-submit cookie is not accepted in place of the session's token.
    owner.csrfHeader = owner.csrfCookie;
    expect(await outcome(owner.api.notebook.create({ workspaceId, name: 'Forged' }))).toBe('FORBIDDEN');
    expect(await outcome(owner.api.auth.signOutEverywhere())).toBe('FORBIDDEN');
    expect(await t.db.notebook.count({ where: { workspaceId } })).toBe(1);
    expect(await t.db.session.count({ where: { userId: team.users.owner.id } })).toBe(1);

    owner.csrfHeader = 'auto';
    expect(await outcome(owner.api.notebook.create({ workspaceId, name: 'Real' }))).toBe('OK');
    expect(await t.db.notebook.count({ where: { workspaceId } })).toBe(2);
  });

  it('signed out, a mutation must echo the kiln_csrf cookie', async () => {
    const user = await insertUser(t.db, 'csrf');
    const browser = new Browser(t.db);
    browser.csrfHeader = null;
    expect(await outcome(browser.api.auth.signIn({ email: user.email, password: PASSWORD }))).toBe(
      'FORBIDDEN',
    );
    browser.csrfHeader = 'something else';
    expect(await outcome(browser.api.auth.signIn({ email: user.email, password: PASSWORD }))).toBe(
      'FORBIDDEN',
    );
    browser.csrfCookie = null;
    browser.csrfHeader = null;
    expect(
      await outcome(
        browser.api.auth.signUp({ email: 'csrf-new@example.com', password: PASSWORD, name: 'N' }),
      ),
    ).toBe('FORBIDDEN');
    expect(browser.sessionToken).toBeNull();
    expect(await t.db.user.count({ where: { email: 'csrf-new@example.com' } })).toBe(0);

    const honest = new Browser(t.db);
    expect(await outcome(honest.api.auth.signIn({ email: user.email, password: PASSWORD }))).toBe('OK');
    // Queries need no header at all.
    honest.csrfHeader = null;
    expect((await honest.api.auth.me())?.user.email).toBe(user.email);
  });

  it('exempts API-token requests, which carry no cookies', async () => {
    const team = await createTeam(t.db);
    const script = new Browser(t.db, { apiToken: team.tokens.editor.token });
    script.csrfHeader = null;
    script.csrfCookie = null;
    const created = await script.api.notebook.create({ workspaceId: team.workspace.id, name: 'From CI' });
    expect(created.name).toBe('From CI');
  });
});
