import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { exerciseEveryModel, expectedEveryModel } from '../test/every-model.ts';
import { defaultMigrationsDir } from './migrate.ts';
import { createTestDatabase, type TestDatabase, templateName } from './testing.ts';

const ADMIN_URL = 'postgresql://postgres@127.0.0.1:5432/postgres';

/** Kiln's migrations plus one of its own: another checkout's migration set, with its own template. */
async function otherMigrationSet(root: string, tag: string): Promise<string> {
  const dir = join(root, tag);
  await cp(defaultMigrationsDir, dir, { recursive: true });
  await mkdir(join(dir, `29990101000000_${tag}`));
  await writeFile(join(dir, `29990101000000_${tag}`, 'migration.sql'), `CREATE TABLE "${tag}" (id int);\n`);
  return dir;
}

async function templates(): Promise<string[]> {
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname LIKE 'kiln\\_test\\_template\\_%'`,
    );
    return rows.map((row) => row.datname);
  } finally {
    await admin.end();
  }
}

describe('createTestDatabase', () => {
  const created: TestDatabase[] = [];
  afterAll(async () => {
    await Promise.all(created.map((t) => t.drop()));
  });

  it('gives a migrated database where every model can be written, read and cascade-deleted', async () => {
    const t = await createTestDatabase();
    created.push(t);
    expect(await exerciseEveryModel(t.db, 'a')).toEqual(expectedEveryModel('a'));
  });

  it('gives each caller its own database, and drop() removes it', async () => {
    const [one, two] = await Promise.all([createTestDatabase(), createTestDatabase()]);
    created.push(one, two);
    expect(one.url).not.toEqual(two.url);
    await one.db.user.create({ data: { email: 'only-in-one@example.com', name: 'One' } });
    expect(await two.db.user.count()).toBe(0);
    await one.drop();
    const reopened = await import('./client.ts').then(({ createDb }) => createDb(one.url, { max: 1 }));
    await expect(reopened.user.count()).rejects.toThrow(/does not exist/);
    await reopened.$disconnect();
  });

  it('keeps another checkout’s recently used template, and drops one unused for hours', async () => {
    const root = await mkdtemp(join(tmpdir(), 'kiln-templates-'));
    try {
      const otherSet = await otherMigrationSet(root, 'kiln_b');
      const other = await createTestDatabase({ migrationsDir: otherSet });
      created.push(other);
      // Named by its migrations, not guessed as "the new one": other checkouts may build templates meanwhile.
      const otherTemplate = await templateName(otherSet);
      expect(await templates()).toContain(otherTemplate);
      // A third migration set builds its template (and sweeps): the second one was used just now.
      const third = await createTestDatabase({ migrationsDir: await otherMigrationSet(root, 'kiln_c') });
      created.push(third);
      expect(await templates()).toContain(otherTemplate);
      expect(await other.db.$queryRawUnsafe('SELECT count(*)::int AS n FROM "kiln_b"')).toEqual([{ n: 0 }]);

      // Last used seven hours ago: the next sweep drops it.
      const admin = new pg.Client({ connectionString: ADMIN_URL });
      await admin.connect();
      const sevenHoursAgo = Date.now() - 7 * 3600_000;
      await admin.query(
        `COMMENT ON DATABASE "${otherTemplate}" IS 'kiln test template, last used ${sevenHoursAgo}'`,
      );
      await admin.end();
      const fourth = await createTestDatabase({ migrationsDir: await otherMigrationSet(root, 'kiln_d') });
      created.push(fourth);
      expect(await templates()).not.toContain(otherTemplate);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  }, 120_000);
});
