import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const adminUrl = 'postgresql://postgres@127.0.0.1:5432/postgres';

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

async function waitForHttp(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`web server exited early:\n${output()}`);
    try {
      const response = await fetch(url);
      if (response.status < 500) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`web server did not answer at ${url}:\n${output()}`);
}

/** A fresh migrated database and the built web app on a free port, torn down after the run. */
export default async function globalSetup(): Promise<() => Promise<void>> {
  const database = `kiln_e2e_${process.pid}_${Date.now()}`;
  execFileSync('psql', [adminUrl, '-q', '-c', `CREATE DATABASE ${database}`]);
  const databaseUrl = adminUrl.replace(/\/postgres$/, `/${database}`);
  execFileSync(process.execPath, ['--import', 'tsx', 'packages/db/src/cli.ts', 'migrate', '--url', databaseUrl], {
    cwd: repoRoot,
    stdio: 'inherit',
  });

  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  let log = '';
  const child = spawn(process.execPath, ['--import', 'tsx', 'apps/web/src/server.ts'], {
    cwd: repoRoot,
    env: { ...process.env, NODE_ENV: 'production', DATABASE_URL: databaseUrl, PORT: String(port), HOST: '127.0.0.1', APP_URL: baseUrl },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk) => (log += chunk));
  child.stderr?.on('data', (chunk) => (log += chunk));
  await waitForHttp(`${baseUrl}/sign-in`, child, () => log);
  process.env.KILN_E2E_BASE_URL = baseUrl;

  return async () => {
    child.kill('SIGTERM');
    if (child.exitCode === null) await once(child, 'exit');
    execFileSync('psql', [adminUrl, '-q', '-c', `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`]);
  };
}
