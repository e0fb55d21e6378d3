import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { gateConnection, restrictTree } from './embedded-auth.ts';

export interface EmbeddedPostgresOptions {
  /** Folder the database lives in, created on first start; omitted, the database lives in memory. */
  dataDir?: string;
  /** TCP port; 0 (the default) lets the OS pick one, which `url` then carries. */
  port?: number;
  host?: string;
  /** Client connections served at once, across all processes; each pg pool holds up to its `max`. */
  maxConnections?: number;
  /** Password clients must give (user `postgres`); without one PGlite lets anyone on the host in. */
  password?: string;
}

export interface EmbeddedPostgres {
  /** A postgresql:// URL any Postgres client (pg, Prisma's adapter-pg) can use. */
  url: string;
  port: number;
  /** Closes every connection and flushes the database to `dataDir`. */
  stop(): Promise<void>;
}

const PID_FILE = 'kiln-embedded.pid';
const claimedHere = new Set<string>();

/**
 * PGlite (Postgres compiled to WebAssembly) served over the Postgres wire protocol, so several
 * processes with connection pools can share it. Queries from all connections run one at a time;
 * a connection inside a transaction keeps the database until it commits or rolls back.
 */
export async function startEmbeddedPostgres(
  options: EmbeddedPostgresOptions = {},
): Promise<EmbeddedPostgres> {
  const host = options.host ?? '127.0.0.1';
  const dataDir = options.dataDir === undefined ? undefined : resolve(options.dataDir);
  if (dataDir) await claimDataDir(dataDir);
  let db: PGlite | undefined;
  // With a password, PGlite listens on a socket in a folder only this user can enter, behind the gate.
  const privateDir = options.password ? await mkdtemp(join(tmpdir(), 'kiln-pg-')) : undefined;
  try {
    db = await PGlite.create(dataDir ? { dataDir } : {});
    if (dataDir) await restrictTree(dataDir);
    keepExtendedQueriesTogether(db);
    const socketPath = privateDir ? join(privateDir, 'pglite.sock') : undefined;
    const server = new PGLiteSocketServer({
      db,
      ...(socketPath ? { path: socketPath } : { host, port: options.port ?? 0 }),
      maxConnections: options.maxConnections ?? 100,
    });
    await server.start();
    const gate =
      options.password && socketPath
        ? await listenGate(options.password, socketPath, host, options.port ?? 0)
        : undefined;
    const port = gate?.port ?? Number(server.getServerConn().split(':').pop());
    const opened = db;
    const user = options.password ? `postgres:${encodeURIComponent(options.password)}` : 'postgres';
    let stopping: Promise<void> | undefined;
    return {
      url: `postgresql://${user}@${host.includes(':') ? `[${host}]` : host}:${port}/postgres`,
      port,
      stop() {
        stopping ??= (async () => {
          await gate?.close();
          await server.stop();
          // Detaching a handler that was mid-transaction rolls it back asynchronously; let that finish.
          await new Promise((done) => setImmediate(done));
          await opened.close();
          if (dataDir) await restrictTree(dataDir);
          if (dataDir) await release(dataDir);
          if (privateDir) await rm(privateDir, { recursive: true, force: true });
        })();
        return stopping;
      },
    };
  } catch (error) {
    await db?.close().catch(() => undefined);
    if (dataDir) await release(dataDir);
    if (privateDir) await rm(privateDir, { recursive: true, force: true });
    throw error;
  }
}

/** The TCP side clients reach: checks the password, then joins the client to PGlite's private socket. */
async function listenGate(password: string, socketPath: string, host: string, port: number) {
  const clients = new Set<Socket>();
  const server: Server = createServer((socket) => {
    clients.add(socket);
    socket.on('close', () => clients.delete(socket));
    gateConnection(socket, password, (client, pending) => {
      const upstream = connect(socketPath);
      upstream.write(pending);
      client.pipe(upstream).pipe(client);
      const end = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on('close', end);
      upstream.on('close', end).on('error', end);
    });
  });
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => done());
  });
  return {
    port: (server.address() as { port: number }).port,
    close: () =>
      new Promise<void>((done) => {
        for (const socket of clients) socket.destroy();
        server.close(() => done());
      }),
  };
}

/**
 * PGlite has no lock of its own and a second process opening the same folder would corrupt it, so
 * the folder records its server's pid and, where /proc exists, that process's start time: a pid
 * reused after a crash or a container restart is then not mistaken for a running server.
 */
async function claimDataDir(dataDir: string): Promise<void> {
  if (claimedHere.has(dataDir))
    throw new Error(`The embedded database in ${dataDir} is already open in this process.`);
  await mkdir(dataDir, { recursive: true });
  const pidFile = join(dataDir, PID_FILE);
  const [pidText = '', started = ''] = (await readFile(pidFile, 'utf8').catch(() => '')).trim().split(' ');
  const pid = Number(pidText);
  if (pid && pid !== process.pid && isAlive(pid) && (await startTime(pid)) === started) {
    throw new Error(`The embedded database in ${dataDir} is already in use by process ${pid}.`);
  }
  await writeFile(pidFile, `${process.pid} ${await startTime(process.pid)}\n`);
  claimedHere.add(dataDir);
}

async function release(dataDir: string): Promise<void> {
  claimedHere.delete(dataDir);
  await rm(join(dataDir, PID_FILE), { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Field 22 of /proc/<pid>/stat (clock ticks since boot); empty where /proc is missing. */
async function startTime(pid: number): Promise<string> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  // The command name (field 2) may hold spaces; the fields after its closing parenthesis do not.
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
}

// Extended-protocol messages up to the Sync that ends them: Parse, Bind, Describe, Execute, Close, Flush.
const EXTENDED = new Set(['P', 'B', 'D', 'E', 'C', 'H'].map((c) => c.charCodeAt(0)));
const SYNC = 'S'.charCodeAt(0);
const SIMPLE_QUERY = 'Q'.charCodeAt(0);

/**
 * The socket server's multiplexer hands the single backend to another connection between any two
 * messages unless a transaction block is open. Between Parse and Sync none is, so a query whose
 * messages arrive in two TCP reads (a large parameter) could have another connection's Parse replace
 * its unnamed statement. Reporting "in transaction" until the Sync keeps each query's messages together.
 */
function keepExtendedQueriesTogether(db: PGlite): void {
  let midQuery = false;
  const exec = db.execProtocolRawStream.bind(db);
  db.execProtocolRawStream = (message, options) => {
    const type = message[0] ?? 0;
    if (EXTENDED.has(type)) midQuery = true;
    else if (type === SYNC || type === SIMPLE_QUERY) midQuery = false;
    return exec(message, options);
  };
  const inTransaction = db.isInTransaction.bind(db);
  db.isInTransaction = () => midQuery || inTransaction();
}
