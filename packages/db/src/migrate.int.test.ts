import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { catalogSnapshot } from '../test/catalog-snapshot.ts';
import {
  applyMigrations,
  defaultMigrationsDir,
  MigrationError,
  migrationChecksum,
  readMigrations,
} from './migrate.ts';
import { prismaSchemaSql } from './schema-sql.ts';
import { createTestDatabase, type TestDatabase } from './testing.ts';

const databases: TestDatabase[] = [];
async function emptyDatabase() {
  const t = await createTestDatabase({ migrate: false, max: 1 });
  databases.push(t);
  return t.url;
}
afterAll(async () => {
  await Promise.all(databases.map((t) => t.drop()));
});

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

describe('the migrations', () => {
  it('build exactly the database Prisma generates from schema.prisma', async () => {
    const [migrated, generated] = await Promise.all([emptyDatabase(), emptyDatabase()]);
    await applyMigrations(migrated);
    await query(generated, await prismaSchemaSql({ url: generated }));
    const [fromMigrations, fromSchema] = await Promise.all([
      catalogSnapshot(migrated),
      catalogSnapshot(generated),
    ]);
    expect(fromSchema.columns.length).toBeGreaterThan(50);
    const { checks: migratedChecks, ...migratedRest } = fromMigrations;
    const { checks: schemaChecks, ...schemaRest } = fromSchema;
    expect(migratedRest).toEqual(schemaRest);
    // Rules Prisma's schema cannot state are added by hand in migration SQL; each is listed here on purpose.
    expect(schemaChecks).toEqual([]);
    expect(migratedChecks.map((check) => `${check.table_name}.${check.conname}`)).toEqual([
      '"NotebookSchedule".NotebookSchedule_one_target',
    ]);
  });
});

describe('applyMigrations', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kiln-migrations-'));
    await cp(defaultMigrationsDir, dir, { recursive: true });
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('applies pending migrations once, recording them as Prisma does', async () => {
    const url = await emptyDatabase();
    const names = (await readMigrations()).map((m) => m.name);
    expect(await applyMigrations(url)).toEqual(names);
    expect(await applyMigrations(url)).toEqual([]);

    const rows = await query<{
      migration_name: string;
      checksum: string;
      finished: boolean;
      applied_steps_count: number;
    }>(
      url,
      'SELECT migration_name, checksum, finished_at IS NOT NULL AS finished, applied_steps_count FROM _prisma_migrations ORDER BY migration_name',
    );
    const sql = await readFile(join(defaultMigrationsDir, names[0] ?? '', 'migration.sql'));
    expect(rows[0]).toEqual({
      migration_name: names[0],
      checksum: migrationChecksum(sql),
      finished: true,
      applied_steps_count: 1,
    });
    expect(rows).toHaveLength(names.length);

    const columns = await query(
      url,
      `SELECT column_name, data_type, character_maximum_length, is_nullable, column_default
       FROM information_schema.columns WHERE table_name = '_prisma_migrations' ORDER BY ordinal_position`,
    );
    expect(columns).toEqual([
      {
        column_name: 'id',
        data_type: 'character varying',
        character_maximum_length: 36,
        is_nullable: 'NO',
        column_default: null,
      },
      {
        column_name: 'checksum',
        data_type: 'character varying',
        character_maximum_length: 64,
        is_nullable: 'NO',
        column_default: null,
      },
      {
        column_name: 'finished_at',
        data_type: 'timestamp with time zone',
        character_maximum_length: null,
        is_nullable: 'YES',
        column_default: null,
      },
      {
        column_name: 'migration_name',
        data_type: 'character varying',
        character_maximum_length: 255,
        is_nullable: 'NO',
        column_default: null,
      },
      {
        column_name: 'logs',
        data_type: 'text',
        character_maximum_length: null,
        is_nullable: 'YES',
        column_default: null,
      },
      {
        column_name: 'rolled_back_at',
        data_type: 'timestamp with time zone',
        character_maximum_length: null,
        is_nullable: 'YES',
        column_default: null,
      },
      {
        column_name: 'started_at',
        data_type: 'timestamp with time zone',
        character_maximum_length: null,
        is_nullable: 'NO',
        column_default: 'now()',
      },
      {
        column_name: 'applied_steps_count',
        data_type: 'integer',
        character_maximum_length: null,
        is_nullable: 'NO',
        column_default: '0',
      },
    ]);
  });

  it('applies a migration added later, and only that one', async () => {
    const url = await emptyDatabase();
    await applyMigrations(url, { migrationsDir: dir });
    await mkdir(join(dir, '29990101000000_add_color'));
    await writeFile(
      join(dir, '29990101000000_add_color', 'migration.sql'),
      'ALTER TABLE "Notebook" ADD COLUMN "color" TEXT;\n',
    );
    expect(await applyMigrations(url, { migrationsDir: dir })).toEqual(['29990101000000_add_color']);
    expect(
      await query(url, `SELECT column_name FROM information_schema.columns WHERE column_name = 'color'`),
    ).toHaveLength(1);
  });

  it('refuses to continue when an applied migration was edited afterwards', async () => {
    const url = await emptyDatabase();
    await applyMigrations(url, { migrationsDir: dir });
    const [first] = await readMigrations(dir);
    await writeFile(join(dir, first?.name ?? '', 'migration.sql'), `${first?.sql}\n-- edited\n`);
    const error = await applyMigrations(url, { migrationsDir: dir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationError);
    expect(error).toMatchObject({ code: 'MIGRATION_MODIFIED', migration: first?.name });
    expect((error as Error).message).toMatch(/was changed after it was applied/);
  });

  it('rolls back a failing migration, records it, and refuses until it is resolved', async () => {
    const url = await emptyDatabase();
    await applyMigrations(url, { migrationsDir: dir });
    const broken = join(dir, '29990101000000_broken', 'migration.sql');
    await mkdir(join(dir, '29990101000000_broken'));
    await writeFile(broken, 'CREATE TABLE "Half" ("id" INT);\nALTER TABLE "Nope" ADD COLUMN "x" INT;\n');

    await expect(applyMigrations(url, { migrationsDir: dir })).rejects.toMatchObject({
      code: 'MIGRATION_FAILED',
      message: expect.stringMatching(
        /29990101000000_broken failed and was rolled back: relation "Nope" does not exist/,
      ),
    });
    expect(await query(url, `SELECT 1 FROM information_schema.tables WHERE table_name = 'Half'`)).toEqual([]);

    await writeFile(broken, 'CREATE TABLE "Half" ("id" INT);\n');
    await expect(applyMigrations(url, { migrationsDir: dir })).rejects.toMatchObject({
      code: 'MIGRATION_FAILED',
      message: expect.stringMatching(
        /failed earlier.*prisma migrate resolve --rolled-back 29990101000000_broken/s,
      ),
    });

    // What `prisma migrate resolve --rolled-back` does; the fixed migration then applies.
    await query(url, `UPDATE _prisma_migrations SET rolled_back_at = now() WHERE finished_at IS NULL`);
    expect(await applyMigrations(url, { migrationsDir: dir })).toEqual(['29990101000000_broken']);
  });

  it('applies each migration once when two processes start at the same moment', async () => {
    const url = await emptyDatabase();
    const results = await Promise.all([applyMigrations(url), applyMigrations(url), applyMigrations(url)]);
    const names = (await readMigrations()).map((m) => m.name);
    expect(results.flat().sort()).toEqual(names);
    expect(await query(url, 'SELECT migration_name FROM _prisma_migrations')).toHaveLength(names.length);
  });
});
