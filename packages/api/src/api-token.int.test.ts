import { sha256 } from '@kiln/accounts';
import type { TestDatabase } from '@kiln/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, createTeam, outcome, withDatabase } from '../test/harness.ts';

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
