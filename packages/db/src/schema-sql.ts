import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { PrismaPg } from '@prisma/adapter-pg';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';

/** This package's Prisma schema. */
export const schemaPath = new URL('../prisma/schema.prisma', import.meta.url);

// The tsconfig's libs leave out the WebAssembly global's types; this is the little used here.
interface WasmApi {
  instantiate(
    bytes: Uint8Array,
    imports: Record<string, unknown>,
  ): Promise<{ instance: { exports: Record<string, unknown> } }>;
}

interface WasmSchemaEngine {
  diff(params: unknown): Promise<{ exitCode: number; stdout: string }>;
  free(): void;
}

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
  const { engine, dispose } = await loadEngine(options.url, datamodel);
  try {
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
  } finally {
    engine.free();
    await dispose();
  }
}

interface EngineModule {
  SchemaEngine: { new: (options: unknown, log: () => void, adapter: unknown) => Promise<WasmSchemaEngine> };
}

let engineModule: Promise<EngineModule> | undefined;

/** The module's glue keeps one wasm instance in module state, so it is instantiated once per process. */
function loadEngineModule(): Promise<EngineModule> {
  engineModule ??= (async () => {
    // The package imports its .wasm as an ES module, which Node 20 cannot; instantiate it by hand.
    const require = createRequire(import.meta.url);
    const gluePath = require.resolve('@prisma/schema-engine-wasm/schema_engine_bg');
    const glue = await import(gluePath);
    const bytes = await readFile(gluePath.replace(/\.js$/, '.wasm'));
    const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
    const { instance } = await wasm.instantiate(bytes, { './schema_engine_bg.js': glue });
    glue.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as () => void)();
    return glue as EngineModule;
  })();
  return engineModule;
}

async function loadEngine(url: string, datamodel: string) {
  const glue = await loadEngineModule();
  // The engine connects once (to learn the server version) even for a diff between two schemas.
  const factory = new PrismaPg({ connectionString: url, max: 1 });
  const opened: { dispose(): Promise<void> }[] = [];
  const connect = factory.connect.bind(factory);
  factory.connect = async () => {
    const adapter = await connect();
    opened.push(adapter);
    return adapter;
  };
  const engine = await glue.SchemaEngine.new(
    { datamodels: [['schema.prisma', datamodel]] },
    () => undefined,
    bindMigrationAwareSqlAdapterFactory(factory),
  );
  // The engine never closes the pool it opened, which would keep the process alive.
  const dispose = async () => {
    await Promise.all(opened.map((adapter) => adapter.dispose()));
  };
  return { engine, dispose };
}
