import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { startEmbeddedPostgres } from './embedded.ts';
import { generateClient } from './generate.ts';
import { applyMigrations } from './migrate.ts';

const USAGE = `Usage: npx tsx packages/db/src/cli.ts <command> [options]

  embedded --data-dir DIR [--port N] [--host H] [--max-connections N] [--password-file F] [--migrate]
      Serve an embedded Postgres (PGlite) until SIGTERM/SIGINT. Prints
      "kiln-db: embedded Postgres ready at <url>" once clients can connect
      (after applying migrations when --migrate is given).
  migrate --url URL [--migrations-dir DIR]
      Apply pending migrations and print their names.
  generate [--force]
      Generate the Prisma client offline (skipped when it is newer than the schema).
  migration-sql [--from OLD.prisma | --from-git REF] [--name NAME] [--url URL]
      Print the SQL Prisma generates for schema.prisma, from an empty database or from
      an earlier schema; with --name, write it as prisma/migrations/<stamp>_NAME/migration.sql.
      URL: any reachable Postgres the engine may read its version from (default local).`;

const log = (line: string) => process.stdout.write(`kiln-db: ${line}\n`);

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: {
      'data-dir': { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      'max-connections': { type: 'string' },
      'password-file': { type: 'string' },
      migrate: { type: 'boolean' },
      url: { type: 'string' },
      'migrations-dir': { type: 'string' },
      force: { type: 'boolean' },
      from: { type: 'string' },
      'from-git': { type: 'string' },
      name: { type: 'string' },
    },
  });
  switch (command) {
    case 'embedded': {
      const dataDir = values['data-dir'];
      if (!dataDir) return usage('embedded needs --data-dir');
      // Listening before the server exists, so a signal during a first (slow) initdb still ends cleanly.
      let signalled: () => void = () => undefined;
      const signal = new Promise<void>((done) => {
        signalled = done;
      });
      const onSignal = () => signalled();
      process.once('SIGTERM', onSignal).once('SIGINT', onSignal);
      // PGlite creates its files world-writable; this process writes nothing others should read.
      process.umask(0o077);
      const passwordFile = values['password-file'];
      const password = passwordFile ? (await readFile(passwordFile, 'utf8')).trim() : undefined;
      if (passwordFile && !password) return usage(`${passwordFile} is empty`);
      const server = await startEmbeddedPostgres({
        dataDir,
        port: integer(values.port, 'port') ?? 0,
        host: values.host,
        maxConnections: integer(values['max-connections'], 'max-connections'),
        password,
      });
      const stopped = signal.then(async () => {
        process.off('SIGTERM', onSignal).off('SIGINT', onSignal);
        await server.stop();
      });
      if (values.migrate) {
        try {
          for (const name of await applyMigrations(server.url)) log(`applied migration ${name}`);
        } catch (error) {
          await server.stop();
          throw error;
        }
      }
      // The URL carries the password; the log names the address only.
      log(`embedded Postgres ready at ${server.url.replace(/:\/\/([^:@]+):[^@]*@/, '://$1:***@')}`);
      await stopped;
      log('embedded Postgres stopped');
      return 0;
    }
    case 'migrate': {
      if (!values.url) return usage('migrate needs --url');
      const applied = await applyMigrations(values.url, { migrationsDir: values['migrations-dir'] });
      for (const name of applied) log(`applied migration ${name}`);
      if (applied.length === 0) log('database is up to date');
      return 0;
    }
    case 'generate': {
      const ran = await generateClient({ force: values.force });
      if (!ran) log('Prisma client is up to date (use --force to regenerate)');
      return 0;
    }
    case 'migration-sql': {
      // Loaded only here: the WebAssembly engine is a development dependency.
      const { writeMigrationSql } = await import('./migration-sql.ts');
      const written = await writeMigrationSql({
        url: values.url ?? 'postgresql://postgres@127.0.0.1:5432/postgres',
        fromFile: values.from,
        fromGitRef: values['from-git'],
        name: values.name,
      });
      if (written.path) log(`wrote ${written.path}`);
      else process.stdout.write(written.sql);
      return 0;
    }
    default:
      return usage(command ? `unknown command ${command}` : undefined);
  }
}

function integer(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${name} must be a whole number, got ${value}`);
  return n;
}

class UsageError extends Error {}

function usage(problem?: string): number {
  if (problem) console.error(`kiln-db: ${problem}\n`);
  console.error(USAGE);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError || (error instanceof TypeError && 'code' in error)) {
      process.exitCode = usage(error.message);
    } else {
      console.error(`kiln-db: ${error instanceof Error ? error.message : String(error)}`);
      process.exitCode = 1;
    }
  },
);
