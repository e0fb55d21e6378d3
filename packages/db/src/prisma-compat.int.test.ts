import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { applyMigrations, defaultMigrationsDir, readMigrations } from './migrate.ts';
import { withSchemaEngine } from './schema-engine.ts';
import { schemaPath } from './schema-sql.ts';
import { createTestDatabase, type TestDatabase } from './testing.ts';

// What `prisma migrate deploy` runs: the schema engine's applyMigrations, here its WebAssembly build.
async function prismaMigrateDeploy(url: string, dir = defaultMigrationsDir): Promise<string[]> {
  const migrationsList = {
    baseDir: dir,
    lockfile: {
      path: 'migration_lock.toml',
      content: await readFile(join(dir, 'migration_lock.toml'), 'utf8'),
    },
    shadowDbInitScript: '',
    migrationDirectories: (await readMigrations(dir)).map((m) => ({
      path: m.name,
      migrationFile: { path: 'migration.sql', content: { tag: 'ok', value: m.sql } },
    })),
  };
  const schema = await readFile(schemaPath, 'utf8');
  const output = await withSchemaEngine(url, schema, (engine) =>
    engine.applyMigrations({ migrationsList, filters: { externalTables: [], externalEnums: [] } }),
  );
  return output.appliedMigrationNames;
}

async function history(url: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const rows = await client.query(
      `SELECT migration_name, checksum, finished_at IS NOT NULL AS finished, logs, rolled_back_at, applied_steps_count
       FROM _prisma_migrations ORDER BY migration_name`,
    );
    const columns = await client.query(
      `SELECT column_name, data_type, character_maximum_length, is_nullable, column_default
       FROM information_schema.columns WHERE table_name = '_prisma_migrations' ORDER BY ordinal_position`,
    );
    return { rows: rows.rows, columns: columns.rows };
  } finally {
    await client.end();
  }
}

describe('compatibility with prisma migrate deploy', () => {
  const databases: TestDatabase[] = [];
  const empty = async () => {
    const t = await createTestDatabase({ migrate: false, max: 1 });
    databases.push(t);
    return t.url;
  };
  const dirs: string[] = [];
  afterAll(async () => {
    await Promise.all(databases.map((t) => t.drop()));
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it('each accepts a database the other migrated, and both record the same history', async () => {
    const [ours, prismas] = await Promise.all([empty(), empty()]);
    const names = (await readMigrations()).map((m) => m.name);

    expect(await applyMigrations(ours)).toEqual(names);
    expect(await prismaMigrateDeploy(ours)).toEqual([]);

    expect(await prismaMigrateDeploy(prismas)).toEqual(names);
    expect(await applyMigrations(prismas)).toEqual([]);

    expect(await history(ours)).toEqual(await history(prismas));
  });

  it('Prisma refuses to go on past a migration that failed under our applier', async () => {
    const url = await empty();
    const dir = await mkdtemp(join(tmpdir(), 'kiln-compat-'));
    dirs.push(dir);
    await cp(defaultMigrationsDir, dir, { recursive: true });
    await mkdir(join(dir, '29990101000000_broken'));
    await writeFile(
      join(dir, '29990101000000_broken', 'migration.sql'),
      'ALTER TABLE "Nope" ADD COLUMN "x" INT;\n',
    );

    await expect(applyMigrations(url, { migrationsDir: dir })).rejects.toMatchObject({
      code: 'MIGRATION_FAILED',
    });
    await expect(prismaMigrateDeploy(url, dir)).rejects.toThrow(/29990101000000_broken/);
  });
});
