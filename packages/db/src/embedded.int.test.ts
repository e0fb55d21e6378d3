import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { serialize } from 'pg-protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalogSnapshot } from '../test/catalog-snapshot.ts';
import { runCli } from '../test/cli-runner.ts';
import { exerciseEveryModel, expectedEveryModel } from '../test/every-model.ts';
import { createDb } from './client.ts';
import { type EmbeddedPostgres, startEmbeddedPostgres } from './embedded.ts';
import { applyMigrations, readMigrations } from './migrate.ts';
import { createTestDatabase } from './testing.ts';

describe('embedded Postgres', () => {
  let dataDir: string;
  let server: EmbeddedPostgres;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'kiln-embedded-'));
    await cp(await initialisedDataDir(), dataDir, { recursive: true });
    server = await startEmbeddedPostgres({ dataDir, port: 0 });
  });
  const children: ChildProcess[] = [];
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await server?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('takes our migrations, applied by two processes at once, and ends up with the same schema as a real Postgres', async () => {
    const names = (await readMigrations()).map((m) => m.name);
    // Web app and gateway both migrate at start; the shared backend makes advisory locks no guard here.
    const [web, gateway] = await Promise.all([applyMigrations(server.url), applyMigrations(server.url)]);
    expect([...web, ...gateway].sort()).toEqual(names);
    expect(await applyMigrations(server.url)).toEqual([]);
    const real = await createTestDatabase({ max: 1 });
    try {
      expect(await catalogSnapshot(server.url)).toEqual(await catalogSnapshot(real.url));
    } finally {
      await real.drop();
    }
  });

  it('serves Prisma: every model can be written, read and cascade-deleted', async () => {
    const db = createDb(server.url, { max: 3 });
    try {
      expect(await exerciseEveryModel(db, 'embedded')).toEqual(expectedEveryModel('embedded'));
    } finally {
      await db.$disconnect();
    }
  });

  it('serves two processes with pools at once, keeping their transactions apart', async () => {
    const web = createDb(server.url, { max: 5 });
    const gateway = createDb(server.url, { max: 5 });
    try {
      const workspace = await web.workspace.create({ data: { name: 'Shared', slug: 'shared' } });
      const failing = web
        .$transaction(async (tx) => {
          await tx.notebook.create({ data: { workspaceId: workspace.id, name: 'rolled back' } });
          await new Promise((done) => setTimeout(done, 50));
          throw new Error('abort');
        })
        .catch((error: Error) => error.message);
      const writes = Array.from({ length: 30 }, (_, i) =>
        (i % 2 ? web : gateway).$transaction(async (tx) => {
          const n = await tx.notebook.count({ where: { workspaceId: workspace.id } });
          await tx.notebook.create({ data: { workspaceId: workspace.id, name: `nb-${i}` } });
          return n;
        }),
      );
      const reads = Array.from({ length: 30 }, () =>
        gateway.workspace.findUniqueOrThrow({ where: { slug: 'shared' } }),
      );
      const [failure, counts, found] = await Promise.all([failing, Promise.all(writes), Promise.all(reads)]);
      expect(failure).toBe('abort');
      expect(found.every((w) => w.id === workspace.id)).toBe(true);
      // Each transaction saw the ones before it complete and none of the rolled-back one.
      expect(counts.sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i));
      expect(await gateway.notebook.count({ where: { name: 'rolled back' } })).toBe(0);
    } finally {
      await Promise.all([web.$disconnect(), gateway.$disconnect()]);
    }
  });

  it("does not let one connection's query slip between another's Parse and Bind", async () => {
    const slow = net.connect(server.port, '127.0.0.1');
    await new Promise((done) => slow.once('connect', done));
    let received = '';
    slow.on('data', (data) => {
      received += data.toString('latin1');
    });
    slow.write(serialize.startup({ user: 'postgres', database: 'postgres' }));
    await until(() => received.includes('Z'));
    received = '';
    slow.write(serialize.parse({ text: "SELECT 'slow-client' AS who" }));
    await new Promise((done) => setTimeout(done, 50));
    const other = new pg.Client({ connectionString: server.url });
    const otherQuery = other.connect().then(() => other.query("SELECT 'other' AS who, $1::int AS n", [1]));
    await new Promise((done) => setTimeout(done, 100));
    slow.write(Buffer.concat([serialize.bind({}), serialize.execute({}), serialize.sync()]));
    await until(() => received.includes('Z'));
    expect(received).toContain('slow-client');
    expect(received).not.toContain('bind message supplies');
    expect((await otherQuery).rows[0]).toEqual({ who: 'other', n: 1 });
    slow.end();
    await other.end();
  });

  it('hands its folder to the CLI server, which refuses a second copy and stops cleanly on SIGTERM', async () => {
    const db = createDb(server.url, { max: 1 });
    await db.user.create({ data: { email: 'kept@example.com', name: 'Kept' } });
    await db.$disconnect();
    await expect(startEmbeddedPostgres({ dataDir })).rejects.toThrow('already open in this process');
    await server.stop();

    const cli = runCli(['embedded', '--data-dir', dataDir, '--port', '0', '--migrate']);
    children.push(cli.child);
    const [, url = ''] = await cli.line(/kiln-db: embedded Postgres ready at (postgresql:\S+)/);
    const viaCli = createDb(url, { max: 1 });
    expect(await viaCli.user.findUnique({ where: { email: 'kept@example.com' } })).toMatchObject({
      name: 'Kept',
    });
    await viaCli.signInThrottle.create({
      data: { key: 'written-through-cli', attempts: 1, lastAttempt: new Date() },
    });
    await viaCli.$disconnect();

    // The CLI's server is another live process: a second server on its folder must not open it.
    await expect(startEmbeddedPostgres({ dataDir, port: 0 })).rejects.toThrow(
      `already in use by process ${cli.child.pid}`,
    );
    const migrate = runCli(['migrate', '--url', url]);
    expect(await migrate.exited).toBe(0);
    expect(migrate.output()).toContain('kiln-db: database is up to date');

    cli.child.kill('SIGTERM');
    expect(await cli.exited).toBe(0);
    expect(cli.output()).toContain('kiln-db: embedded Postgres stopped');

    server = await startEmbeddedPostgres({ dataDir, port: 0 });
    const again = createDb(server.url, { max: 1 });
    try {
      expect(await again.signInThrottle.count({ where: { key: 'written-through-cli' } })).toBe(1);
      expect(await applyMigrations(server.url)).toEqual([]);
    } finally {
      await again.$disconnect();
    }
  });
});

describe('embedded Postgres with a password', () => {
  it('refuses clients without the password and keeps its files private to this user', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kiln-embedded-auth-'));
    const dataDir = join(dir, 'pgdata');
    await cp(await initialisedDataDir(), dataDir, { recursive: true });
    const password = 'generated-secret-0123456789';
    const server = await startEmbeddedPostgres({ dataDir, port: 0, password });
    try {
      const attempt = async (url: string) => {
        const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
        try {
          await client.connect();
          return (await client.query('select 41 + 1 as n')).rows[0].n as number;
        } catch (error) {
          return (error as Error).message;
        } finally {
          await client.end().catch(() => undefined);
        }
      };
      const address = `127.0.0.1:${server.port}/postgres`;
      expect(await attempt(`postgresql://postgres@${address}`)).toMatch(/password/);
      expect(await attempt(`postgresql://postgres:wrong@${address}`)).toMatch(
        /password authentication failed/,
      );
      expect(await attempt(server.url)).toBe(42);
      expect(server.url).toContain(password);
      const db = createDb(server.url, { max: 2 });
      try {
        expect(await db.$queryRaw`select 1 as one`).toEqual([{ one: 1 }]);
      } finally {
        await db.$disconnect();
      }
    } finally {
      await server.stop();
    }
    const open: string[] = [];
    const walk = async (path: string) => {
      const info = await stat(path);
      if ((info.mode & 0o077) !== 0) open.push(`${path} ${(info.mode & 0o777).toString(8)}`);
      if (info.isDirectory()) for (const name of await readdir(path)) await walk(join(path, name));
    };
    await walk(dataDir);
    expect(open).toEqual([]);
    await rm(dir, { recursive: true, force: true });
  }, 120_000);
});

async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((done) => setTimeout(done, 10));
  }
}

/**
 * initdb inside WebAssembly takes 10-20 s on two busy cores, so the tests copy a data folder
 * initialised once per machine and PGlite version (built aside and renamed, so runs can race).
 */
async function initialisedDataDir(): Promise<string> {
  // The package's exports leave out package.json; read it beside the resolved entry point.
  const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  const manifest = join(entry.slice(0, entry.lastIndexOf('/dist/')), 'package.json');
  const { version } = JSON.parse(await readFile(manifest, 'utf8')) as { version: string };
  const cached = join(tmpdir(), `kiln-pglite-initdb-${version}`);
  if (existsSync(join(cached, 'PG_VERSION'))) return cached;
  const building = await mkdtemp(`${cached}-building-`);
  const db = await PGlite.create({ dataDir: building });
  await db.close();
  await rename(building, cached).catch(() => rm(building, { recursive: true, force: true }));
  return cached;
}
