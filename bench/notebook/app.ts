// The real web app for the notebook benchmark: a fresh migrated database and `apps/web/src/server.ts`
// (the production build) on a free loopback port, as e2e/support/global-setup.ts starts it.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ADMIN_URL = 'postgresql://postgres@127.0.0.1:5432/postgres';

/** A running web app; `stop` ends the server and drops its database (safe to call twice). */
export interface App {
  baseUrl: string;
  stop(): Promise<void>;
}

/** A port nothing listens on right now, on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

// Five minutes: on a shared machine at load 40 the server once needed more than two to answer its first page.
async function waitForHttp(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 300_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`web app exited early:\n${output()}`);
    try {
      const response = await fetch(url);
      if (response.status < 500) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`nothing answered at ${url} within 300 s:\n${output()}`);
}

function psql(sql: string): void {
  execFileSync('psql', [ADMIN_URL, '-q', '-c', sql], { stdio: ['ignore', 'ignore', 'inherit'] });
}

/** Builds the web app if its sources changed, then starts it against a new database. */
export async function startApp(): Promise<App> {
  execFileSync('bash', ['scripts/build-web.sh'], { cwd: root, stdio: 'inherit' });
  const database = `kiln_bench_notebook_${process.pid}_${Date.now()}`;
  psql(`CREATE DATABASE ${database}`);
  const databaseUrl = ADMIN_URL.replace(/\/postgres$/, `/${database}`);
  let child: ChildProcess | undefined;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child?.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    psql(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  };
  try {
    execFileSync(
      process.execPath,
      ['--import', 'tsx', 'packages/db/src/cli.ts', 'migrate', '--url', databaseUrl],
      { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] },
    );
    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    let log = '';
    child = spawn(process.execPath, ['--import', 'tsx', 'apps/web/src/server.ts'], {
      cwd: root,
      env: {
        ...process.env,
        NODE_ENV: 'production',
        DATABASE_URL: databaseUrl,
        PORT: String(port),
        HOST: '127.0.0.1',
        APP_URL: baseUrl,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (chunk) => (log = (log + chunk).slice(-8000)));
    child.stderr?.on('data', (chunk) => (log = (log + chunk).slice(-8000)));
    await waitForHttp(`${baseUrl}/sign-in`, child, () => log);
    return { baseUrl, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
