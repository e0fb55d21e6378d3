import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestDatabase } from '@kiln/db/testing';
import { test } from '@playwright/test';

// Kiln's own processes for fault tests: each test owns them, so it can kill -9 one and start it
// again without disturbing the shared web app of global setup.

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const adminUrl = 'postgresql://postgres@127.0.0.1:5432/postgres';

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** A node process of the repository, its output kept for failure messages. */
export interface NodeProcess {
  child: ChildProcess;
  output(): string;
  /** SIGKILL: no shutdown code runs, as in a crash or an OOM kill. */
  kill9(): Promise<void>;
  stop(): Promise<void>;
}

export function startNode(script: string, env: NodeJS.ProcessEnv): NodeProcess {
  let log = '';
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: repoRoot,
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk) => (log += chunk));
  child.stderr?.on('data', (chunk) => (log += chunk));
  const exited = once(child, 'exit');
  const signal = async (name: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(name);
    await exited;
  };
  return { child, output: () => log, kill9: () => signal('SIGKILL'), stop: () => signal('SIGTERM') };
}

export async function waitForHttp(url: string, proc: NodeProcess, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null) throw new Error(`${url} exited early:\n${proc.output()}`);
    try {
      const response = await fetch(url);
      if (response.status < 500) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`nothing answered at ${url}:\n${proc.output()}`);
}

/**
 * A fresh migrated database on `serverUrl` (a postgres:// URL of a server's `postgres` database). On the
 * shared server it is a clone of the migrated template the integration tests use (built once per set of
 * migrations, in milliseconds after that); on another server (a test's scratch Postgres) the migrations
 * are applied to it.
 */
export async function createDatabase(serverUrl = adminUrl): Promise<{ url: string; drop(): Promise<void> }> {
  if (serverUrl === adminUrl) {
    const database = await createTestDatabase({ adminUrl, max: 1 });
    return {
      url: database.url,
      drop: () => database.drop().catch(() => undefined),
    };
  }
  const name = `kiln_fault_${process.pid}_${Date.now()}`;
  execFileSync('psql', [serverUrl, '-q', '-c', `CREATE DATABASE ${name}`]);
  const url = serverUrl.replace(/\/postgres$/, `/${name}`);
  execFileSync(process.execPath, ['--import', 'tsx', 'packages/db/src/cli.ts', 'migrate', '--url', url], {
    cwd: repoRoot,
    stdio: 'ignore',
  });
  return {
    url,
    drop: async () => {
      try {
        execFileSync('psql', [serverUrl, '-q', '-c', `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`]);
      } catch {
        // the server may be gone already
      }
    },
  };
}

/**
 * A kernel gateway with its own state dir, joined to the scheduler of `databaseUrl` as one node (the web
 * app places kernels only on registered nodes); `restart()` starts a new process on the same port, dir
 * and node id.
 */
export async function startGateway(options: { databaseUrl: string }) {
  const token = randomBytes(24).toString('hex');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const stateDir = mkdtempSync(path.join(tmpdir(), 'kiln-fault-gateway-'));
  const start = async () => {
    const proc = startNode('apps/kernel-gateway/src/main.ts', {
      PORT: String(port),
      HOST: '127.0.0.1',
      KILN_GATEWAY_TOKEN: token,
      KILN_STATE_DIR: stateDir,
      DATABASE_URL: options.databaseUrl,
      KILN_NODE_ID: `fault-node-${port}`,
      KILN_NODE_CPU: '8',
      KILN_NODE_MEMORY_MIB: String(16 * 1024),
      KILN_GPUS: 'none',
      KILN_HEARTBEAT_SECONDS: '2',
      KILN_WARM_POOL_SIZE: '0',
      // A checkpoint per fresh state dir would cost more than the cold boots of these few kernels.
      KILN_SNAPSHOTS: 'false',
    });
    await waitForHttp(`${url}/api`, proc);
    return proc;
  };
  let proc = await start();
  const earlier: string[] = [];
  return {
    url,
    token,
    /** The output of every process started so far, oldest first (for failure reports). */
    log: () => [...earlier, proc.output()].join('\n--- restarted ---\n'),
    /** The sandboxes runsc has in this gateway's state dir (container ids). */
    sandboxes(): string[] {
      const listed = execFileSync('runsc', [`--root=${path.join(stateDir, 'runsc')}`, 'list', '-quiet'], {
        encoding: 'utf8',
      });
      return listed.split('\n').filter((line) => line.trim() !== '');
    },
    /** Kills a sandbox's kernel behind the gateway's back (as an out-of-memory kill or a host reboot would). */
    killSandbox(id: string): void {
      execFileSync('runsc', [`--root=${path.join(stateDir, 'runsc')}`, 'kill', id, 'KILL']);
    },
    get proc() {
      return proc;
    },
    async restart() {
      earlier.push(proc.output());
      proc = await start();
    },
    async close() {
      await proc.stop();
      // Workspace volumes are loop-mounted quota images; a gateway killed mid-test leaves them mounted.
      const volumes = path.join(stateDir, 'volumes');
      for (const entry of existsSync(volumes) ? readdirSync(volumes) : []) {
        try {
          execFileSync('umount', [path.join(volumes, entry)], { stdio: 'ignore' });
        } catch {
          // not a mount point
        }
      }
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

/**
 * The real web server (server.ts over the built app) on a fixed port, so `restart()` keeps its URL.
 * Without a gateway it runs with no kernels (enough for accounts and workspaces); `env` overrides its
 * settings (sign-up mode, SMTP).
 */
export async function startWeb(options: {
  databaseUrl: string;
  gateway?: { url: string; token: string };
  env?: NodeJS.ProcessEnv;
}) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const start = async () => {
    const proc = startNode('apps/web/src/server.ts', {
      NODE_ENV: 'production',
      DATABASE_URL: options.databaseUrl,
      PORT: String(port),
      HOST: '127.0.0.1',
      APP_URL: url,
      // The tests make many unrelated accounts; sign-up by invitation has its own tests.
      KILN_SIGN_UP: 'open',
      ...(options.gateway
        ? { KERNEL_GATEWAY_URL: options.gateway.url, KILN_GATEWAY_TOKEN: options.gateway.token }
        : {}),
      ...options.env,
    });
    await waitForHttp(`${url}/sign-in`, proc);
    return proc;
  };
  let proc = await start();
  const earlier: string[] = [];
  return {
    url,
    /** The output of every process started so far, oldest first (for failure reports). */
    log: () => [...earlier, proc.output()].join('\n--- restarted ---\n'),
    get proc() {
      return proc;
    },
    async restart() {
      earlier.push(proc.output());
      proc = await start();
    },
    close: () => proc.stop(),
  };
}

/** A test file's own database and web server (see `ownStack`). */
export interface WebStack {
  database: Awaited<ReturnType<typeof createDatabase>>;
  web: Awaited<ReturnType<typeof startWeb>>;
}

/** A test file's own database, kernel gateway and web server (see `ownStack`). */
export interface OwnStack extends WebStack {
  gateway: Awaited<ReturnType<typeof startGateway>>;
}

export interface WebOnlyOptions {
  /** No kernel gateway: enough for accounts and workspaces. */
  gateway: false;
  /** The web server's settings (sign-up mode, SMTP), worked out before it starts. */
  webEnv?: () => NodeJS.ProcessEnv | Promise<NodeJS.ProcessEnv>;
}

/**
 * Gives the calling test file (or describe block) its own database, kernel gateway and web server, so
 * its tests can kill -9 them or run them with other settings: started before its tests (then handed to
 * `onStarted`), stopped after them. Meanwhile the shared helpers (sign-up) address this web app through
 * KILN_E2E_BASE_URL. With `{ gateway: false }`, only the database and the web server.
 */
export function ownStack(onStarted: (stack: OwnStack) => void): void;
export function ownStack(onStarted: (stack: WebStack) => void, options: WebOnlyOptions): void;
export function ownStack(
  onStarted: ((stack: OwnStack) => void) | ((stack: WebStack) => void),
  options?: WebOnlyOptions,
): void {
  // What has started so far, for afterAll to stop when a later start failed.
  const stack: Partial<OwnStack> = {};
  const previousBase = process.env.KILN_E2E_BASE_URL;
  test.beforeAll(async () => {
    test.setTimeout(420_000);
    const database = await createDatabase();
    stack.database = database;
    const gateway = options ? undefined : await startGateway({ databaseUrl: database.url });
    stack.gateway = gateway;
    const env = await options?.webEnv?.();
    const web = await startWeb({
      databaseUrl: database.url,
      ...(gateway ? { gateway } : {}),
      ...(env ? { env } : {}),
    });
    stack.web = web;
    process.env.KILN_E2E_BASE_URL = web.url;
    (onStarted as (stack: WebStack | OwnStack) => void)(
      gateway ? { database, gateway, web } : { database, web },
    );
  });
  // A failure is about what these processes did: keep their whole output (every restart) beside the
  // report, and print its end, which the list reporter shows with the failure (CI keeps only that).
  test.afterEach(async () => {
    const testInfo = test.info();
    if (testInfo.status === testInfo.expectedStatus) return;
    for (const [name, proc] of [
      ['kernel-gateway.log', stack.gateway],
      ['web.log', stack.web],
    ] as const) {
      if (!proc) continue;
      const file = testInfo.outputPath(name);
      writeFileSync(file, proc.log());
      await testInfo.attach(name, { path: file, contentType: 'text/plain' });
      console.log(`--- end of ${name} ---\n${proc.log().slice(-6000)}`);
    }
  });
  test.afterAll(async () => {
    process.env.KILN_E2E_BASE_URL = previousBase;
    await stack.web?.close();
    await stack.gateway?.close();
    await stack.database?.drop();
  });
}
