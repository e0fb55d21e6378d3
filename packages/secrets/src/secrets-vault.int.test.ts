import { randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '@kiln/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyring, generateSecretsKey, parseSecretsKey } from './keyring.ts';
import { createSecretsVault } from './secrets-vault.ts';
import { findInDatabase } from './testing.ts';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await t?.drop();
});

async function workspaceWithNotebook() {
  const user = await t.db.user.create({
    data: { email: `u-${randomUUID()}@example.com`, name: 'Ada', passwordHash: null },
  });
  const workspace = await t.db.workspace.create({
    data: { name: 'Team', slug: `team-${randomUUID().slice(0, 8)}` },
  });
  const notebook = await t.db.notebook.create({ data: { workspaceId: workspace.id, name: 'nb' } });
  return { user, workspace, notebook };
}

const keyA = parseSecretsKey(generateSecretsKey());
const keyB = parseSecretsKey(generateSecretsKey());

// Generous: Postgres round trips are slow on a loaded 2-core machine.
describe('secrets vault', { timeout: 60_000 }, () => {
  it('stores values encrypted, shows names only, and hands notebooks their environment', async () => {
    const vault = createSecretsVault({ db: t.db, keyring: createKeyring(keyA) });
    const { user, workspace, notebook } = await workspaceWithNotebook();
    const actor = { userId: user.id, ip: '10.0.0.1' };
    const value = `sk-live-${randomUUID()}`;
    const created = await vault.create(workspace.id, actor, {
      name: 'openai',
      values: { OPENAI_API_KEY: value, ORG: 'kiln-org-1' },
    });
    expect(created.keys).toEqual(['OPENAI_API_KEY', 'ORG']);
    expect(JSON.stringify(await vault.list(workspace.id))).not.toContain(value);

    await vault.setNotebookSecrets(workspace.id, actor, notebook.id, [created.id]);
    const resolved = await vault.resolveForNotebook(workspace.id, actor, notebook.id, 'kernel start');
    expect(resolved.env).toEqual({ OPENAI_API_KEY: value, ORG: 'kiln-org-1' });

    await vault.update(workspace.id, actor, created.id, { values: { ORG: 'kiln-org-2' } });
    const after = await vault.resolveForNotebook(workspace.id, actor, notebook.id, 'kernel start');
    expect(after.env).toEqual({ OPENAI_API_KEY: value, ORG: 'kiln-org-2' });

    expect(await findInDatabase(t.url, value)).toEqual([]);
    const actions = await t.db.auditLog.findMany({
      where: { workspaceId: workspace.id },
      orderBy: { createdAt: 'asc' },
      select: { action: true },
    });
    expect(actions.map((row) => row.action)).toEqual([
      'secret.created',
      'notebook.secrets_changed',
      'secret.used',
      'secret.updated',
      'secret.used',
    ]);
  });

  it('rejects bad names, reserved variables, oversized values and duplicate names', async () => {
    const vault = createSecretsVault({ db: t.db, keyring: createKeyring(keyA) });
    const { workspace } = await workspaceWithNotebook();
    const actor = { userId: null };
    const attempt = (name: string, values: Record<string, string>) =>
      vault.create(workspace.id, actor, { name, values }).then(
        () => 'OK',
        (error: { code: string }) => error.code,
      );
    expect(await attempt('Bad Name', { A: 'x' })).toBe('VALIDATION_FAILED');
    expect(await attempt('ok', { '1ABC': 'x' })).toBe('VALIDATION_FAILED');
    expect(await attempt('ok', { LD_PRELOAD: '/evil.so' })).toBe('VALIDATION_FAILED');
    expect(await attempt('ok', {})).toBe('VALIDATION_FAILED');
    expect(await attempt('ok', { BIG: 'x'.repeat(32 * 1024 + 1) })).toBe('PAYLOAD_TOO_LARGE');
    expect(await attempt('ok', { BIG: 'x'.repeat(32 * 1024) })).toBe('OK');
    expect(await attempt('ok', { OTHER: 'y' })).toBe('CONFLICT');
  });

  it('keeps workspaces apart: ids of another workspace are not found', async () => {
    const vault = createSecretsVault({ db: t.db, keyring: createKeyring(keyA) });
    const mine = await workspaceWithNotebook();
    const theirs = await workspaceWithNotebook();
    const actor = { userId: mine.user.id };
    const foreign = await vault.create(theirs.workspace.id, actor, {
      name: 'db',
      values: { PW: 'their-pw-1' },
    });
    const codes = await Promise.all([
      vault.update(mine.workspace.id, actor, foreign.id, { values: { PW: 'x' } }).catch((e) => e.code),
      vault.remove(mine.workspace.id, actor, foreign.id).catch((e) => e.code),
      vault.setNotebookSecrets(mine.workspace.id, actor, mine.notebook.id, [foreign.id]).catch((e) => e.code),
    ]);
    expect(codes).toEqual(['NOT_FOUND', 'NOT_FOUND', 'NOT_FOUND']);
    expect(await vault.list(mine.workspace.id)).toEqual([]);
  });

  it('rotation re-encrypts every secret under the new key, and old rows need the old key', async () => {
    const before = createSecretsVault({ db: t.db, keyring: createKeyring(keyA) });
    const { user, workspace, notebook } = await workspaceWithNotebook();
    const actor = { userId: user.id };
    const value = `rotating-${randomUUID()}`;
    const secret = await before.create(workspace.id, actor, { name: 'rot', values: { TOKEN: value } });
    await before.setNotebookSecrets(workspace.id, actor, notebook.id, [secret.id]);
    const oldKeyId = createKeyring(keyA).current.id;

    const withoutOldKey = createSecretsVault({ db: t.db, keyring: createKeyring(keyB) });
    await expect(withoutOldKey.resolveForNotebook(workspace.id, actor, notebook.id, 'x')).rejects.toThrow(
      /KILN_SECRETS_OLD_KEYS/,
    );

    const rotating = createSecretsVault({ db: t.db, keyring: createKeyring(keyB, [keyA]) });
    const { rotated } = await rotating.rotate();
    expect(rotated).toBeGreaterThanOrEqual(1);
    expect(await t.db.secret.count({ where: { keyId: oldKeyId } })).toBe(0);
    expect(await rotating.rotate()).toEqual({ rotated: 0 });

    const after = createSecretsVault({ db: t.db, keyring: createKeyring(keyB) });
    expect((await after.resolveForNotebook(workspace.id, actor, notebook.id, 'x')).env).toEqual({
      TOKEN: value,
    });
    expect(await findInDatabase(t.url, value)).toEqual([]);
  });

  it('a ciphertext moved to another row does not decrypt there', async () => {
    const vault = createSecretsVault({ db: t.db, keyring: createKeyring(keyA) });
    const { user, workspace, notebook } = await workspaceWithNotebook();
    const actor = { userId: user.id };
    const a = await vault.create(workspace.id, actor, { name: 'a', values: { A: 'value-of-a' } });
    const b = await vault.create(workspace.id, actor, { name: 'b', values: { B: 'value-of-b' } });
    const rowA = await t.db.secret.findUniqueOrThrow({ where: { id: a.id } });
    await t.db.secret.update({ where: { id: b.id }, data: { ciphertext: rowA.ciphertext } });
    await vault.setNotebookSecrets(workspace.id, actor, notebook.id, [b.id]);
    await expect(vault.resolveForNotebook(workspace.id, actor, notebook.id, 'x')).rejects.toThrow(
      /integrity check/,
    );
  });
});
