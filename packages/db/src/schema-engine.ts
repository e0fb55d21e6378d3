import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { PrismaPg } from '@prisma/adapter-pg';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';

/** The parts of Prisma's WebAssembly schema engine Kiln uses (see @prisma/schema-engine-wasm). */
export interface SchemaEngine {
  diff(params: unknown): Promise<{ exitCode: number; stdout: string }>;
  applyMigrations(input: unknown): Promise<{ appliedMigrationNames: string[] }>;
  diagnoseMigrationHistory(input: unknown): Promise<unknown>;
  free(): void;
}

// The tsconfig's libs leave out the WebAssembly global's types; this is the little used here.
interface WasmApi {
  instantiate(
    bytes: Uint8Array,
    imports: Record<string, unknown>,
  ): Promise<{ instance: { exports: Record<string, unknown> } }>;
}

interface EngineModule {
  SchemaEngine: { new: (options: unknown, log: () => void, adapter: unknown) => Promise<SchemaEngine> };
}

let engineModule: Promise<EngineModule> | undefined;

/**
 * Runs `use` with Prisma's schema engine (the WebAssembly build; the native one cannot be downloaded
 * here) connected to `url` through adapter-pg, and releases both afterwards.
 */
export async function withSchemaEngine<T>(
  url: string,
  datamodel: string,
  use: (engine: SchemaEngine) => Promise<T>,
): Promise<T> {
  const glue = await loadEngineModule();
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
  try {
    return await use(engine);
  } finally {
    engine.free();
    // The engine never closes the pools it opened, which would keep the process alive.
    await Promise.all(opened.map((adapter) => adapter.dispose()));
  }
}

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
