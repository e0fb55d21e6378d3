import { createHash, randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

/** The migrations shipped with this package, in Prisma's folder layout. */
export const defaultMigrationsDir = fileURLToPath(new URL('../prisma/migrations', import.meta.url));

// The key `prisma migrate deploy` locks on, so our applier and Prisma's never run at the same time.
const PRISMA_MIGRATE_LOCK_KEY = 72707369;

// Byte for byte the table Prisma's schema engine creates, so either tool accepts the other's history.
const CREATE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

export interface Migration {
  name: string;
  sql: string;
  /** SHA-256 hex of migration.sql, as Prisma stores it. */
  checksum: string;
}

export type MigrationErrorCode = 'MIGRATION_MODIFIED' | 'MIGRATION_FAILED' | 'MIGRATIONS_DIR_INVALID';

/** Why the database could not be brought up to date; `migration` names the one at fault. */
export class MigrationError extends Error {
  readonly code: MigrationErrorCode;
  readonly migration?: string;

  constructor(code: MigrationErrorCode, message: string, migration?: string) {
    super(message);
    this.name = 'MigrationError';
    this.code = code;
    this.migration = migration;
  }
}

export interface ApplyMigrationsOptions {
  /** Folder holding `<stamp>_<name>/migration.sql`; defaults to this package's migrations. */
  migrationsDir?: string;
}

/** SHA-256 hex of a migration script, the checksum Prisma records in `_prisma_migrations`. */
export function migrationChecksum(sql: string | Buffer): string {
  return createHash('sha256').update(sql).digest('hex');
}

/** Reads every `<name>/migration.sql` under `dir`, sorted by name as Prisma orders them. */
export async function readMigrations(dir: string = defaultMigrationsDir): Promise<Migration[]> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    throw new MigrationError(
      'MIGRATIONS_DIR_INVALID',
      `Cannot read migrations folder ${dir}: ${String(error)}`,
    );
  }
  const names = entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  return Promise.all(
    names.map(async (name) => {
      const bytes = await readFile(join(dir, name, 'migration.sql')).catch(() => {
        throw new MigrationError('MIGRATIONS_DIR_INVALID', `Migration ${name} has no migration.sql`, name);
      });
      return { name, sql: bytes.toString('utf8'), checksum: migrationChecksum(bytes) };
    }),
  );
}

interface AppliedRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  logs: string | null;
}

/**
 * Applies pending migrations in name order, each in its own transaction, recording them in Prisma's
 * `_prisma_migrations` table. Returns the names it applied (empty when the database was up to date).
 */
export async function applyMigrations(url: string, options: ApplyMigrationsOptions = {}): Promise<string[]> {
  const migrations = await readMigrations(options.migrationsDir);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const applied: string[] = [];
  try {
    await client.query('SELECT pg_advisory_lock($1)', [PRISMA_MIGRATE_LOCK_KEY]);
    try {
      await client.query(CREATE_MIGRATIONS_TABLE);
      for (const migration of migrations) {
        if (await applyOne(client, migration)) applied.push(migration.name);
      }
    } finally {
      // Closing the session releases the lock anyway; an error here must not hide the real one.
      await client.query('SELECT pg_advisory_unlock($1)', [PRISMA_MIGRATE_LOCK_KEY]).catch(() => undefined);
    }
  } finally {
    await client.end();
  }
  return applied;
}

async function appliedRows(client: pg.Client): Promise<AppliedRow[]> {
  const result = await client.query<AppliedRow>(
    `SELECT migration_name, checksum, finished_at, logs FROM "_prisma_migrations"
     WHERE rolled_back_at IS NULL ORDER BY started_at`,
  );
  return result.rows;
}

/** Applies one migration unless it is already recorded; true when it ran. */
async function applyOne(client: pg.Client, migration: Migration): Promise<boolean> {
  await client.query('BEGIN');
  let open = true;
  const commit = async () => {
    await client.query('COMMIT');
    open = false;
  };
  try {
    // Checked inside the transaction: on an embedded server whose connections share one backend, the
    // advisory lock cannot keep two appliers apart, but transactions there are serialized.
    const rows = await appliedRows(client);
    const failed = rows.find((row) => row.finished_at === null);
    if (failed) {
      throw new MigrationError(
        'MIGRATION_FAILED',
        `Migration ${failed.migration_name} failed earlier and the database may be half-migrated. ` +
          `Fix it by hand, then mark it with \`prisma migrate resolve --rolled-back ${failed.migration_name}\` ` +
          `or \`--applied\`.${failed.logs ? `\nIts error was: ${failed.logs}` : ''}`,
        failed.migration_name,
      );
    }
    const done = rows.find((row) => row.migration_name === migration.name);
    if (done) {
      if (done.checksum !== migration.checksum) {
        throw new MigrationError(
          'MIGRATION_MODIFIED',
          `Migration ${migration.name} was changed after it was applied to this database ` +
            `(checksum ${done.checksum} recorded, ${migration.checksum} on disk). ` +
            'Restore the original migration.sql and put the change in a new migration.',
          migration.name,
        );
      }
      await commit();
      return false;
    }
    const id = randomUUID();
    await client.query(
      `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count)
       VALUES ($1, $2, $3, clock_timestamp(), 0)`,
      [id, migration.checksum, migration.name],
    );
    await client.query('SAVEPOINT kiln_migration');
    try {
      await client.query(migration.sql);
    } catch (error) {
      await client.query('ROLLBACK TO SAVEPOINT kiln_migration');
      const message = error instanceof Error ? error.message : String(error);
      // Recorded like Prisma records a failed step, so both tools refuse to go on until it is resolved.
      await client.query(`UPDATE "_prisma_migrations" SET logs = $2 WHERE id = $1`, [id, message]);
      await commit();
      throw new MigrationError(
        'MIGRATION_FAILED',
        `Migration ${migration.name} failed and was rolled back: ${message}`,
        migration.name,
      );
    }
    await client.query(
      `UPDATE "_prisma_migrations" SET finished_at = clock_timestamp(), applied_steps_count = 1 WHERE id = $1`,
      [id],
    );
    await commit();
    return true;
  } catch (error) {
    if (open) await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
