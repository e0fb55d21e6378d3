import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { defaultMigrationsDir } from './migrate.ts';
import { prismaSchemaSql } from './schema-sql.ts';

export interface MigrationSqlOptions {
  url: string;
  /** A file holding the earlier schema. */
  fromFile?: string;
  /** A git revision whose prisma/schema.prisma is the earlier schema. */
  fromGitRef?: string;
  /** Write prisma/migrations/<stamp>_<name>/migration.sql instead of returning only the SQL. */
  name?: string;
  migrationsDir?: string;
}

/** The next migration's SQL (schema.prisma against an earlier schema), optionally written to disk. */
export async function writeMigrationSql(
  options: MigrationSqlOptions,
): Promise<{ sql: string; path?: string }> {
  const from = options.fromFile
    ? await readFile(options.fromFile, 'utf8')
    : options.fromGitRef
      ? await gitShow(options.fromGitRef)
      : undefined;
  const sql = await prismaSchemaSql({ url: options.url, from });
  if (!options.name) return { sql };
  if (!/^[a-z0-9_]+$/.test(options.name)) throw new Error('--name may hold only a-z, 0-9 and _');
  const statements = sql.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('--'));
  if (statements.length === 0) throw new Error('schema.prisma has no changes to migrate');
  const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
  const folder = join(options.migrationsDir ?? defaultMigrationsDir, `${stamp}_${options.name}`);
  await mkdir(folder);
  const path = join(folder, 'migration.sql');
  await writeFile(path, sql);
  return { sql, path };
}

async function gitShow(ref: string): Promise<string> {
  const cwd = fileURLToPath(new URL('..', import.meta.url));
  const { stdout } = await promisify(execFile)('git', ['show', `${ref}:./prisma/schema.prisma`], {
    cwd,
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout;
}
