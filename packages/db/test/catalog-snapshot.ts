import pg from 'pg';

/**
 * Everything about the public schema that Prisma's migrations decide (enums, columns, indexes,
 * constraints; CHECK constraints apart), as sorted plain data, so two databases can be compared with one equality check.
 * Column order is left out: a column added by a later migration lands last, wherever the schema has it.
 */
export async function catalogSnapshot(url: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const query = async (sql: string) => (await client.query(sql)).rows;
    return {
      enums: await query(`
        SELECT t.typname AS name, array_agg(e.enumlabel ORDER BY e.enumsortorder)::text[] AS labels
        FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid
        JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = 'public'
        GROUP BY t.typname ORDER BY t.typname`),
      columns: await query(`
        SELECT table_name, column_name, data_type, udt_name, is_nullable, column_default, datetime_precision
        FROM information_schema.columns
        WHERE table_schema = 'public' AND table_name <> '_prisma_migrations'
        ORDER BY table_name, column_name`),
      indexes: await query(`
        SELECT tablename, indexname, indexdef FROM pg_indexes
        WHERE schemaname = 'public' AND tablename <> '_prisma_migrations'
        ORDER BY tablename, indexname`),
      constraints: await query(`
        SELECT c.conrelid::regclass::text AS table_name, c.conname, pg_get_constraintdef(c.oid) AS definition
        FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
        WHERE n.nspname = 'public' AND c.conrelid::regclass::text <> '_prisma_migrations'
          AND c.contype <> 'n' -- Postgres 18 (PGlite) lists NOT NULL here too; columns already carry it
          AND c.contype <> 'c' -- CHECK constraints: Prisma's schema cannot say them (see \`checks\`)
        ORDER BY 1, 2`),
      /** CHECK constraints, which only hand-written migration SQL adds (Prisma's schema has no syntax for them). */
      checks: await query(`
        SELECT c.conrelid::regclass::text AS table_name, c.conname, pg_get_constraintdef(c.oid) AS definition
        FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
        WHERE n.nspname = 'public' AND c.contype = 'c'
        ORDER BY 1, 2`),
    };
  } finally {
    await client.end();
  }
}
