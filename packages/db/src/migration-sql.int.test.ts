import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeMigrationSql } from './migration-sql.ts';
import { schemaPath } from './schema-sql.ts';

const url = 'postgresql://postgres@127.0.0.1:5432/postgres';

describe('writeMigrationSql', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it('writes the SQL that takes an earlier schema to schema.prisma as a new migration folder', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kiln-migration-sql-'));
    dirs.push(dir);
    const earlier = join(dir, 'earlier.prisma');
    const current = await readFile(schemaPath, 'utf8');
    await writeFile(earlier, `${current}\nmodel Retired {\n  id Int @id\n}\n`);
    const migrations = join(dir, 'migrations');
    await mkdir(migrations);

    const { sql, path } = await writeMigrationSql({
      url,
      fromFile: earlier,
      name: 'drop_retired',
      migrationsDir: migrations,
    });
    expect(sql).toBe('-- DropTable\nDROP TABLE "Retired";\n');
    const [folder] = await readdir(migrations);
    expect(folder).toMatch(/^\d{14}_drop_retired$/);
    expect(path).toBe(join(migrations, folder ?? '', 'migration.sql'));
    expect(await readFile(path ?? '', 'utf8')).toBe(sql);
  });

  it('refuses to write a migration when the schema did not change', async () => {
    await expect(writeMigrationSql({ url, fromFile: schemaPath.pathname, name: 'nothing' })).rejects.toThrow(
      'schema.prisma has no changes to migrate',
    );
  });
});
