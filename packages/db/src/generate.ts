import { spawn } from 'node:child_process';
import { chmod, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const schemaFile = join(packageDir, 'prisma', 'schema.prisma');
const generatedClient = join(packageDir, 'src', 'generated', 'prisma', 'client.ts');

export interface GenerateOptions {
  /** Regenerate even when the client is newer than the schema. */
  force?: boolean;
  /** Where `prisma generate` should look for the native schema engine; a dummy is made when omitted. */
  schemaEngineBinary?: string;
}

/** Runs `prisma generate` offline; returns false when the generated client was already up to date. */
export async function generateClient(options: GenerateOptions = {}): Promise<boolean> {
  if (!options.force && (await isUpToDate())) return false;
  const require = createRequire(import.meta.url);
  const prismaPackage = require.resolve('prisma/package.json');
  const prismaBin = join(
    dirname(prismaPackage),
    (require(prismaPackage) as { bin: { prisma: string } }).bin.prisma,
  );
  // generate never runs the schema engine, but Prisma downloads one first unless this names a file.
  const dummyDir = options.schemaEngineBinary ? undefined : await mkdtemp(join(tmpdir(), 'kiln-prisma-'));
  const engine = options.schemaEngineBinary ?? (await dummySchemaEngine(dummyDir as string));
  const code = await new Promise<number | null>((done, fail) => {
    const child = spawn(process.execPath, [prismaBin, 'generate'], {
      cwd: packageDir,
      stdio: 'inherit',
      env: {
        ...process.env,
        PRISMA_SCHEMA_ENGINE_BINARY: engine,
        PRISMA_HIDE_UPDATE_MESSAGE: '1',
        // Prisma's telemetry and update check ("checkpoint"): Kiln does not phone home.
        CHECKPOINT_DISABLE: '1',
      },
    });
    child.on('error', fail);
    child.on('exit', done);
  }).finally(() => (dummyDir ? rm(dummyDir, { recursive: true, force: true }) : undefined));
  if (code !== 0) throw new Error(`prisma generate exited with code ${code}`);
  return true;
}

async function isUpToDate(): Promise<boolean> {
  const [schema, client] = await Promise.all([
    stat(schemaFile),
    stat(generatedClient).catch(() => undefined),
  ]);
  return client !== undefined && client.mtimeMs >= schema.mtimeMs;
}

async function dummySchemaEngine(dir: string): Promise<string> {
  const path = join(dir, 'schema-engine-unused');
  await writeFile(
    path,
    '#!/bin/sh\necho "kiln: the native Prisma schema engine is not installed" >&2\nexit 1\n',
  );
  await chmod(path, 0o755);
  return path;
}
