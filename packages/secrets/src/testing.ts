import pg from 'pg';

/**
 * Every place a string occurs in a database: each column of each table, read as text (bytea as its
 * hex form, so the hex of `needle` is searched too). Tests use it to prove a value is never stored in clear.
 */
export async function findInDatabase(url: string, needle: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const columns = await client.query<{ table_name: string; column_name: string }>(
      `SELECT table_name, column_name FROM information_schema.columns
        WHERE table_schema = 'public' ORDER BY table_name, column_name`,
    );
    const hex = Buffer.from(needle, 'utf8').toString('hex');
    const hits: string[] = [];
    for (const { table_name: table, column_name: column } of columns.rows) {
      const found = await client.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM "${table}"
          WHERE strpos("${column}"::text, $1) > 0 OR strpos(lower("${column}"::text), $2) > 0`,
        [needle, hex],
      );
      if ((found.rows[0]?.n ?? 0) > 0) hits.push(`${table}.${column}`);
    }
    return hits;
  } finally {
    await client.end();
  }
}
