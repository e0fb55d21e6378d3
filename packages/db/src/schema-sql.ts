import { readFile } from 'node:fs/promises';
import { withSchemaEngine } from './schema-engine.ts';

/** This package's Prisma schema. */
export const schemaPath = new URL('../prisma/schema.prisma', import.meta.url);

export interface PrismaSchemaSqlOptions {
  /** Any reachable Postgres; the engine reads its version and changes nothing. */
  url: string;
  /** The target schema's text; this package's schema.prisma when omitted. */
  schema?: string;
  /** An earlier schema's text to migrate from, as `prisma migrate dev` would; an empty database when omitted. */
  from?: string;
}

/**
 * The SQL Prisma's schema engine writes to create `schema` on an empty database, or to reach it `from`
 * an earlier schema (what belongs in a new migration.sql), by way of the WebAssembly engine since the
 * native one cannot be downloaded here. Diffing schema to schema sidesteps the engine's introspection
 * bug over driver adapters (prisma/orm#27403).
 */
export async function prismaSchemaSql(options: PrismaSchemaSqlOptions): Promise<string> {
  const datamodel = options.schema ?? (await readFile(schemaPath, 'utf8'));
  return withSchemaEngine(options.url, datamodel, async (engine) => {
    const result = await engine.diff({
      from:
        options.from === undefined
          ? { tag: 'empty' }
          : { tag: 'schemaDatamodel', files: [{ path: 'schema.prisma', content: options.from }] },
      to: { tag: 'schemaDatamodel', files: [{ path: 'schema.prisma', content: datamodel }] },
      script: true,
      exitCode: null,
      filters: { externalTables: [], externalEnums: [] },
    });
    // "From empty" includes the public schema itself, which every real database already has and
    // `prisma migrate dev` therefore never writes into a migration.
    return result.stdout.replace('-- CreateSchema\nCREATE SCHEMA IF NOT EXISTS "public";\n\n', '');
  });
}
