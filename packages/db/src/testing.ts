import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';
import { createDb, type Db } from './client.ts';
import { applyMigrations, defaultMigrationsDir, readMigrations } from './migrate.ts';

export interface TestDatabaseOptions {
  /** A database on the server to issue CREATE/DROP DATABASE from. */
  adminUrl?: string;
  migrationsDir?: string;
  /** Pool size of the returned Prisma client. */
  max?: number;
  /** false: an empty database, for tests of migrations themselves. Default true. */
  migrate?: boolean;
}

export interface TestDatabase {
  url: string;
  db: Db;
  /** Disconnects `db` and drops the database. */
  drop(): Promise<void>;
}

const DEFAULT_ADMIN_URL = 'postgresql://postgres@127.0.0.1:5432/postgres';
// Any constant distinct from the migrate lock; guards building templates across test workers.
const TEMPLATE_LOCK_KEY = 0x6b696c6e;
// Another migration set's template is dropped only once no run has used it for this long: checkouts on
// different migrations (branches tested side by side) share one Postgres without pulling each other's
// template away mid-run.
const TEMPLATE_IDLE_MS = 6 * 3600_000;
const USED_PREFIX = 'kiln test template, last used ';

const templates = new Map<string, Promise<string>>();

/** A fresh, migrated database on a real Postgres, cloned from a per-schema template for speed. */
export async function createTestDatabase(options: TestDatabaseOptions = {}): Promise<TestDatabase> {
  const adminUrl = options.adminUrl ?? DEFAULT_ADMIN_URL;
  const migrationsDir = options.migrationsDir ?? defaultMigrationsDir;
  const name = `kiln_test_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const create = async (template: string) =>
    withAdmin(adminUrl, (admin) =>
      admin.query(`CREATE DATABASE ${quoteIdent(name)} TEMPLATE ${quoteIdent(template)}`),
    );
  if (options.migrate === false) {
    await create('template0');
  } else {
    await create(await cachedTemplate(adminUrl, migrationsDir)).catch(async (error: { code?: string }) => {
      // Another run with other migrations replaced the template this process had cached.
      if (error.code !== '3D000') throw error;
      templates.delete(`${adminUrl}\n${migrationsDir}`);
      await create(await cachedTemplate(adminUrl, migrationsDir));
    });
  }
  const url = databaseUrl(adminUrl, name);
  const db = createDb(url, { max: options.max ?? 4 });
  let dropped = false;
  return {
    url,
    db,
    async drop() {
      if (dropped) return;
      dropped = true;
      await db.$disconnect();
      await withAdmin(adminUrl, (admin) =>
        admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`),
      );
    },
  };
}

function cachedTemplate(adminUrl: string, migrationsDir: string): Promise<string> {
  const cacheKey = `${adminUrl}\n${migrationsDir}`;
  let template = templates.get(cacheKey);
  if (!template) {
    template = ensureTemplate(adminUrl, migrationsDir);
    templates.set(cacheKey, template);
    template.catch(() => templates.delete(cacheKey));
  }
  return template;
}

/** The template database's name for a set of migrations: `kiln_test_template_<checksum>`. */
export async function templateName(migrationsDir: string): Promise<string> {
  const migrations = await readMigrations(migrationsDir);
  const digest = createHash('sha256');
  for (const migration of migrations) digest.update(`${migration.name}:${migration.checksum}\n`);
  return `kiln_test_template_${digest.digest('hex').slice(0, 16)}`;
}

/** Creates `kiln_test_template_<checksum>` once per distinct set of migrations; returns its name. */
async function ensureTemplate(adminUrl: string, migrationsDir: string): Promise<string> {
  const name = await templateName(migrationsDir);
  await withAdmin(adminUrl, async (admin) => {
    await admin.query('SELECT pg_advisory_lock($1)', [TEMPLATE_LOCK_KEY]);
    try {
      await dropStale(admin, name);
      const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
      if (exists.rowCount) {
        await markUsed(admin, name);
        return;
      }
      // Built under another name and renamed when complete, so a crash never leaves a half-migrated template.
      const building = `${name}_building`;
      await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(building)} WITH (FORCE)`);
      await admin.query(`CREATE DATABASE ${quoteIdent(building)} TEMPLATE template0`);
      await applyMigrations(databaseUrl(adminUrl, building), { migrationsDir });
      await admin.query(`ALTER DATABASE ${quoteIdent(building)} RENAME TO ${quoteIdent(name)}`);
      await markUsed(admin, name);
    } finally {
      await admin.query('SELECT pg_advisory_unlock($1)', [TEMPLATE_LOCK_KEY]);
    }
  });
  return name;
}

/** Records on the template itself when a run last used it (a database comment; survives restarts). */
async function markUsed(admin: pg.Client, template: string): Promise<void> {
  await admin.query(`COMMENT ON DATABASE ${quoteIdent(template)} IS '${USED_PREFIX}${Date.now()}'`);
}

/**
 * Drops templates of other migration sets no run used for TEMPLATE_IDLE_MS, and test databases a
 * crashed run left over a day ago.
 */
async function dropStale(admin: pg.Client, currentTemplate: string): Promise<void> {
  const { rows } = await admin.query<{ datname: string; note: string | null }>(
    `SELECT datname, shobj_description(oid, 'pg_database') AS note
       FROM pg_database WHERE datname LIKE 'kiln\\_test\\_%'`,
  );
  const now = Date.now();
  for (const { datname, note } of rows) {
    const created = /^kiln_test_([0-9a-z]+)_[0-9a-f]{8}$/.exec(datname)?.[1];
    const lastUsed = note?.startsWith(USED_PREFIX) ? Number(note.slice(USED_PREFIX.length)) : 0;
    const stale = datname.startsWith('kiln_test_template_')
      ? datname !== currentTemplate && !datname.endsWith('_building') && !(now - lastUsed < TEMPLATE_IDLE_MS)
      : created !== undefined && Number.parseInt(created, 36) < now - 24 * 3600_000;
    if (stale)
      await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(datname)} WITH (FORCE)`).catch(() => undefined);
  }
}

async function withAdmin<T>(adminUrl: string, run: (admin: pg.Client) => Promise<T>): Promise<T> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    return await run(admin);
  } finally {
    await admin.end();
  }
}

function databaseUrl(adminUrl: string, database: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
