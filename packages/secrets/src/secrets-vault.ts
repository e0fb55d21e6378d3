import { randomUUID } from 'node:crypto';
import { recordAudit } from '@kiln/accounts';
import { DomainError } from '@kiln/core';
import type { Db } from '@kiln/db';
import { type Keyring, open, seal } from './keyring.ts';
import {
  MAX_SECRETS_PER_NOTEBOOK,
  MAX_SECRETS_PER_WORKSPACE,
  validateSecretName,
  validateValues,
} from './validation.ts';

/** What anyone in the workspace may see of a secret: never a value. */
export interface SecretSummary {
  id: string;
  name: string;
  /** The environment variable names it sets. */
  keys: string[];
  createdAt: Date;
  updatedAt: Date;
}

/** Who acts, for the audit log. */
export interface SecretActor {
  userId: string | null;
  ip?: string | null;
}

export interface SecretsVaultOptions {
  db: Db;
  keyring: Keyring;
}

const SUMMARY = { id: true, name: true, keys: true, createdAt: true, updatedAt: true } as const;

// The row's workspace and id are the associated data: a ciphertext copied to another row or
// workspace fails to decrypt instead of leaking there.
const aad = (workspaceId: string, secretId: string) => `kiln-secret\0${workspaceId}\0${secretId}`;

function notFound(): DomainError {
  return new DomainError('NOT_FOUND', 'Secret not found');
}

function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'P2002';
}

/** Named, encrypted secrets of workspaces, handed to kernels as environment variables. */
export function createSecretsVault(options: SecretsVaultOptions) {
  const { db, keyring } = options;

  function encrypt(workspaceId: string, secretId: string, entries: [string, string][]) {
    const plaintext = Buffer.from(JSON.stringify(Object.fromEntries(entries)), 'utf8');
    return seal(keyring, plaintext, aad(workspaceId, secretId));
  }

  function decrypt(row: { id: string; workspaceId: string; ciphertext: Uint8Array; keyId: string }) {
    const plaintext = open(keyring, row.ciphertext, row.keyId, aad(row.workspaceId, row.id));
    return JSON.parse(plaintext.toString('utf8')) as Record<string, string>;
  }

  /** Decrypts `rows` in order (later keys win) and records one `secret.used` per secret. */
  async function use(
    workspaceId: string,
    actor: SecretActor,
    rows: { id: string; name: string; workspaceId: string; ciphertext: Uint8Array; keyId: string }[],
    context: Record<string, string>,
    options: { audit?: boolean },
  ): Promise<{ env: Record<string, string>; secrets: string[] }> {
    if (rows.length === 0) return { env: {}, secrets: [] };
    const env: Record<string, string> = {};
    for (const row of rows) Object.assign(env, decrypt(row));
    const names = rows.map((row) => row.name);
    if (options.audit === false) return { env, secrets: names };
    await db.auditLog.createMany({
      data: rows.map((row) => ({
        action: 'secret.used',
        workspaceId,
        actorId: actor.userId,
        target: row.name,
        metadata: { secretId: row.id, ...context },
        ip: actor.ip ?? null,
      })),
    });
    return { env, secrets: names };
  }

  async function find(workspaceId: string, secretId: string) {
    const row = await db.secret.findFirst({ where: { id: secretId, workspaceId } });
    if (!row) throw notFound();
    return row;
  }

  return {
    /** Every secret of the workspace, by name; names and variable names only. */
    list(workspaceId: string): Promise<SecretSummary[]> {
      return db.secret.findMany({ where: { workspaceId }, select: SUMMARY, orderBy: { name: 'asc' } });
    },

    /** Stores a new secret; its values can never be read back through Kiln's API. */
    async create(
      workspaceId: string,
      actor: SecretActor,
      input: { name: string; values: Record<string, string> },
    ): Promise<SecretSummary> {
      const name = validateSecretName(input.name);
      const entries = validateValues(input.values);
      if ((await db.secret.count({ where: { workspaceId } })) >= MAX_SECRETS_PER_WORKSPACE) {
        throw new DomainError(
          'QUOTA_EXCEEDED',
          `A workspace holds at most ${MAX_SECRETS_PER_WORKSPACE} secrets`,
        );
      }
      const id = randomUUID();
      const { ciphertext, keyId } = encrypt(workspaceId, id, entries);
      try {
        return await db.$transaction(async (tx) => {
          const row = await tx.secret.create({
            data: {
              id,
              workspaceId,
              name,
              keys: entries.map(([key]) => key),
              ciphertext,
              keyId,
              createdById: actor.userId,
              updatedById: actor.userId,
            },
            select: SUMMARY,
          });
          await recordAudit(tx, {
            action: 'secret.created',
            workspaceId,
            actorId: actor.userId,
            target: name,
            metadata: { secretId: id, keys: row.keys },
            ip: actor.ip,
          });
          return row;
        });
      } catch (error) {
        if (isUniqueViolation(error))
          throw new DomainError('CONFLICT', `A secret named ${name} already exists`);
        throw error;
      }
    },

    /**
     * Sets or replaces the variables in `values` and drops those in `remove`; the others keep their
     * stored values, so changing one variable does not need the others typed again.
     */
    async update(
      workspaceId: string,
      actor: SecretActor,
      secretId: string,
      input: { values?: Record<string, string>; remove?: string[] },
    ): Promise<SecretSummary> {
      return db.$transaction(async (tx) => {
        // Locked, so two admins' concurrent edits apply one after the other instead of one losing.
        const locked = await tx.$queryRaw<{ id: string }[]>`
          SELECT id FROM "Secret" WHERE id = ${secretId}::uuid AND "workspaceId" = ${workspaceId}::uuid FOR UPDATE`;
        if (locked.length === 0) throw notFound();
        const row = await tx.secret.findUniqueOrThrow({ where: { id: secretId } });
        const current = decrypt(row);
        for (const key of input.remove ?? []) delete current[key];
        const entries = validateValues({ ...current, ...input.values });
        const { ciphertext, keyId } = encrypt(workspaceId, secretId, entries);
        const updated = await tx.secret.update({
          where: { id: secretId },
          data: { keys: entries.map(([key]) => key), ciphertext, keyId, updatedById: actor.userId },
          select: SUMMARY,
        });
        await recordAudit(tx, {
          action: 'secret.updated',
          workspaceId,
          actorId: actor.userId,
          target: row.name,
          metadata: {
            secretId,
            changed: Object.keys(input.values ?? {}).sort(),
            removed: [...(input.remove ?? [])].sort(),
          },
          ip: actor.ip,
        });
        return updated;
      });
    },

    /** Deletes a secret; notebooks that named it no longer get its variables. */
    async remove(workspaceId: string, actor: SecretActor, secretId: string): Promise<void> {
      const row = await find(workspaceId, secretId);
      await db.$transaction(async (tx) => {
        await tx.secret.delete({ where: { id: row.id } });
        await recordAudit(tx, {
          action: 'secret.deleted',
          workspaceId,
          actorId: actor.userId,
          target: row.name,
          metadata: { secretId },
          ip: actor.ip,
        });
      });
    },

    /** The secrets a notebook names, in the order their variables apply (later ones win). */
    async notebookSecrets(workspaceId: string, notebookId: string): Promise<SecretSummary[]> {
      const rows = await db.notebookSecret.findMany({
        where: { notebookId, notebook: { workspaceId } },
        orderBy: { position: 'asc' },
        select: { secret: { select: SUMMARY } },
      });
      return rows.map((row) => row.secret);
    },

    /** Replaces the secrets a notebook names; each must belong to the notebook's workspace. */
    async setNotebookSecrets(
      workspaceId: string,
      actor: SecretActor,
      notebookId: string,
      secretIds: string[],
    ): Promise<SecretSummary[]> {
      const ids = [...new Set(secretIds)];
      if (ids.length > MAX_SECRETS_PER_NOTEBOOK) {
        throw new DomainError(
          'VALIDATION_FAILED',
          `A notebook uses at most ${MAX_SECRETS_PER_NOTEBOOK} secrets`,
          {
            field: 'secretIds',
          },
        );
      }
      const found = await db.secret.findMany({ where: { workspaceId, id: { in: ids } }, select: SUMMARY });
      if (found.length !== ids.length) throw notFound();
      const byId = new Map(found.map((row) => [row.id, row]));
      await db.$transaction(async (tx) => {
        await tx.notebookSecret.deleteMany({ where: { notebookId } });
        await tx.notebookSecret.createMany({
          data: ids.map((secretId, position) => ({ notebookId, secretId, position })),
        });
        await recordAudit(tx, {
          action: 'notebook.secrets_changed',
          workspaceId,
          actorId: actor.userId,
          target: notebookId,
          metadata: { notebookId, secrets: ids.map((id) => byId.get(id)?.name ?? id) },
          ip: actor.ip,
        });
      });
      return ids.map((id) => byId.get(id) as SecretSummary);
    },

    /**
     * The environment a notebook's kernel gets from its secrets, decrypted, with one `secret.used`
     * audit entry per secret (unless `audit` is false: the caller knows no kernel will get them).
     * Empty when the notebook names none.
     */
    async resolveForNotebook(
      workspaceId: string,
      actor: SecretActor,
      notebookId: string,
      purpose: string,
      options: { audit?: boolean } = {},
    ): Promise<{ env: Record<string, string>; secrets: string[] }> {
      const rows = await db.notebookSecret.findMany({
        where: { notebookId, notebook: { workspaceId } },
        orderBy: { position: 'asc' },
        select: { secret: true },
      });
      return use(
        workspaceId,
        actor,
        rows.map(({ secret }) => secret),
        { notebookId, purpose },
        options,
      );
    },

    /**
     * The same for secrets named by id in order (an endpoint version's): each must still exist in the
     * workspace, else NOT_FOUND names the one that is gone. `context` goes into the audit entries.
     */
    async resolve(
      workspaceId: string,
      actor: SecretActor,
      secrets: { id: string; name: string }[],
      context: Record<string, string>,
    ): Promise<{ env: Record<string, string>; secrets: string[] }> {
      if (secrets.length === 0) return { env: {}, secrets: [] };
      const found = await db.secret.findMany({
        where: { workspaceId, id: { in: secrets.map((secret) => secret.id) } },
      });
      const rows = secrets.map((wanted) => {
        const row = found.find((candidate) => candidate.id === wanted.id);
        if (!row)
          throw new DomainError('NOT_FOUND', `Secret "${wanted.name}" was deleted from this workspace`);
        return row;
      });
      return use(workspaceId, actor, rows, context, {});
    },

    /** Names and keys of secrets of the workspace, in the order asked; NOT_FOUND if one is not there. */
    async summaries(workspaceId: string, secretIds: string[]): Promise<SecretSummary[]> {
      const ids = [...new Set(secretIds)];
      if (ids.length > MAX_SECRETS_PER_NOTEBOOK)
        throw new DomainError('VALIDATION_FAILED', `At most ${MAX_SECRETS_PER_NOTEBOOK} secrets`, {
          field: 'secretIds',
        });
      const found = await db.secret.findMany({ where: { workspaceId, id: { in: ids } }, select: SUMMARY });
      if (found.length !== ids.length) throw notFound();
      return ids.map((id) => found.find((row) => row.id === id) as SecretSummary);
    },

    /**
     * Re-encrypts every secret not under the current key (run after changing KILN_SECRETS_KEY with
     * the old key in KILN_SECRETS_OLD_KEYS). Returns how many rows it rewrote.
     */
    async rotate(): Promise<{ rotated: number }> {
      let rotated = 0;
      for (;;) {
        const batch = await db.secret.findMany({
          where: { keyId: { not: keyring.current.id } },
          take: 100,
          orderBy: { id: 'asc' },
        });
        if (batch.length === 0) return { rotated };
        for (const row of batch) {
          const entries = Object.entries(decrypt(row));
          const { ciphertext, keyId } = encrypt(row.workspaceId, row.id, entries);
          // Only if nobody rewrote the row meanwhile (their write is under the current key already).
          const { count } = await db.secret.updateMany({
            where: { id: row.id, keyId: row.keyId },
            data: { ciphertext, keyId },
          });
          if (count === 0) continue;
          rotated += 1;
          await recordAudit(db, {
            action: 'secret.rotated',
            workspaceId: row.workspaceId,
            target: row.name,
            metadata: { secretId: row.id, fromKeyId: row.keyId, toKeyId: keyId },
          });
        }
      }
    },
  };
}

/** The secrets service of a Kiln process. */
export type SecretsVault = ReturnType<typeof createSecretsVault>;
