import { sha256 } from '@kiln/accounts';
import type { TestDatabase } from '@kiln/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, createTeam, outcome, PASSWORD, signedIn, withDatabase } from '../test/harness.ts';

let t: TestDatabase;
beforeAll(async () => {
  t = await withDatabase();
});
afterAll(async () => {
  await t?.drop();
});

describe('API tokens', () => {
  it('are shown once, work as Bearer auth in their workspace only, and stop after revoke', async () => {
    const team = await createTeam(t.db);
    const editor = team.browsers.editor;
    const workspaceId = team.workspace.id;
    const created = await editor.api.apiToken.create({ workspaceId, name: 'laptop', expiresInDays: 30 });
    expect(created.token).toMatch(/^kiln_[A-Za-z0-9_-]{43}$/);

    // At rest only the hash; listings never include the secret.
    const row = await t.db.apiToken.findUniqueOrThrow({ where: { id: created.id } });
    expect(row.tokenHash).toBe(sha256(created.token));
    expect(JSON.stringify(row)).not.toContain(created.token);
    const listed = await editor.api.apiToken.list({ workspaceId });
    const mine = listed.find((token) => token.id === created.id);
    expect(mine).toMatchObject({ name: 'laptop', prefix: created.token.slice(0, 11) });
    expect(JSON.stringify(listed)).not.toContain(created.token);

    const script = new Browser(t.db, { apiToken: created.token });
    expect((await script.api.auth.me())?.user.email).toBe(team.users.editor.email);
    expect(await script.api.notebook.list({ workspaceId })).toHaveLength(1);
    expect(await script.api.workspace.list()).toEqual([
      expect.objectContaining({ id: workspaceId, role: 'EDITOR' }),
    ]);
    // Scoped to its workspace: the editor's other workspaces are invisible to it.
    const personal = await editor.api.workspace.create({ name: 'Editor side project' });
    expect(await outcome(script.api.notebook.list({ workspaceId: personal.id }))).toBe('NOT_FOUND');
    expect(await outcome(script.api.workspace.get({ slug: personal.slug }))).toBe('NOT_FOUND');
    // Account-wide actions need a browser session.
    expect(await outcome(script.api.apiToken.create({ workspaceId, name: 'child' }))).toBe('FORBIDDEN');
    expect(
      await outcome(script.api.account.changePassword({ currentPassword: 'x', newPassword: 'y'.repeat(12) })),
    ).toBe('FORBIDDEN');
    // Rights are the member's current role.
    expect(await outcome(script.api.workspace.rename({ workspaceId, name: 'Nope' }))).toBe('FORBIDDEN');
    expect((await t.db.apiToken.findUniqueOrThrow({ where: { id: created.id } })).lastUsedAt).not.toBeNull();

    await editor.api.apiToken.revoke({ workspaceId, tokenId: created.id });
    await expect(script.api.notebook.list({ workspaceId })).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
      message: 'This API token is invalid, expired or revoked.',
    });
    expect(await script.api.auth.me()).toBeNull();
    expect((await editor.api.apiToken.list({ workspaceId })).map((token) => token.id)).not.toContain(
      created.id,
    );
  });

  it('expire in 90 days unless asked otherwise, and an owner’s token cannot delete the workspace', async () => {
    const team = await createTeam(t.db);
    const workspaceId = team.workspace.id;
    const owner = team.browsers.owner;
    const created = await owner.api.apiToken.create({ workspaceId, name: 'ci' });
    const days = ((created.expiresAt?.getTime() ?? 0) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(89.9);
    expect(days).toBeLessThanOrEqual(90);
    expect(
      (await owner.api.apiToken.create({ workspaceId, name: 'forever', expiresInDays: null })).expiresAt,
    ).toBeNull();

    const script = new Browser(t.db, { apiToken: created.token });
    expect(await outcome(script.api.workspace.delete({ workspaceId, confirm: team.workspace.slug }))).toBe(
      'FORBIDDEN',
    );
    expect(await t.db.workspace.count({ where: { id: workspaceId } })).toBe(1);
  });

  it('are revoked by sign-out-everywhere and by a password change', async () => {
    const team = await createTeam(t.db);
    const workspaceId = team.workspace.id;
    for (const end of ['signOutEverywhere', 'changePassword'] as const) {
      const browser = await signedIn(t.db, team.users.editor.id);
      const { token } = await browser.api.apiToken.create({ workspaceId, name: end });
      const script = new Browser(t.db, { apiToken: token });
      expect(await script.api.notebook.list({ workspaceId })).toHaveLength(1);
      if (end === 'signOutEverywhere') await browser.api.auth.signOutEverywhere();
      else
        await browser.api.account.changePassword({ currentPassword: PASSWORD, newPassword: `${PASSWORD} 2` });
      expect(await outcome(script.api.notebook.list({ workspaceId })), end).toBe('UNAUTHORIZED');
    }
  });

  it('stop working when they expire or their owner leaves the workspace', async () => {
    const team = await createTeam(t.db);
    const workspaceId = team.workspace.id;
    const viewerScript = new Browser(t.db, { apiToken: team.tokens.viewer.token });
    expect(await outcome(viewerScript.api.member.list({ workspaceId }))).toBe('OK');
    await team.browsers.viewer.api.member.leave({ workspaceId });
    expect(await outcome(viewerScript.api.member.list({ workspaceId }))).toBe('UNAUTHORIZED');

    const editorScript = new Browser(t.db, { apiToken: team.tokens.editor.token });
    await t.db.apiToken.update({
      where: { id: team.tokens.editor.id },
      data: { expiresAt: new Date(Date.now() - 1000) },
    });
    expect(await outcome(editorScript.api.member.list({ workspaceId }))).toBe('UNAUTHORIZED');
  });

  it('a member revokes only their own tokens; admins revoke anyone’s', async () => {
    const team = await createTeam(t.db);
    const workspaceId = team.workspace.id;
    expect(
      await outcome(
        team.browsers.editor.api.apiToken.revoke({ workspaceId, tokenId: team.tokens.viewer.id }),
      ),
    ).toBe('NOT_FOUND');
    expect(
      await outcome(team.browsers.admin.api.apiToken.revoke({ workspaceId, tokenId: team.tokens.viewer.id })),
    ).toBe('OK');
  });
});
