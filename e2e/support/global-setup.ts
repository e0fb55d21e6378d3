import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
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
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${url} exited early:\n${output()}`);
    try {
      const response = await fetch(url);
      if (response.status < 500) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`nothing answered at ${url}:\n${output()}`);
}

function startNode(script: string, env: NodeJS.ProcessEnv): { child: ChildProcess; output: () => string } {
  let log = '';
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk) => (log += chunk));
  child.stderr?.on('data', (chunk) => (log += chunk));
  return { child, output: () => log };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  await once(child, 'exit');
}

/** A fresh migrated database and the built web app on a free port, torn down after the run. */
export default async function globalSetup(): Promise<() => Promise<void>> {
  const database = `kiln_e2e_${process.pid}_${Date.now()}`;
  execFileSync('psql', [adminUrl, '-q', '-c', `CREATE DATABASE ${database}`]);
  const databaseUrl = adminUrl.replace(/\/postgres$/, `/${database}`);
  execFileSync(
    process.execPath,
    ['--import', 'tsx', 'packages/db/src/cli.ts', 'migrate', '--url', databaseUrl],
    {
      cwd: repoRoot,
      stdio: 'inherit',
    },
  );

  // The real kernel gateway over runsc sandboxes; its state dir is reused between runs so the kernel
  // snapshot is built once per machine.
  const gatewayToken = randomBytes(24).toString('hex');
  const gatewayPort = await freePort();
  const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
  const gateway = startNode('apps/kernel-gateway/src/main.ts', {
    PORT: String(gatewayPort),
    HOST: '127.0.0.1',
    KILN_GATEWAY_TOKEN: gatewayToken,
    KILN_STATE_DIR: path.join(tmpdir(), 'kiln-e2e-gateway-state'),
    KILN_WARM_POOL_SIZE: '1',
  });
  await waitForHttp(`${gatewayUrl}/api`, gateway.child, gateway.output);

  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const web = startNode('apps/web/src/server.ts', {
    NODE_ENV: 'production',
    DATABASE_URL: databaseUrl,
    PORT: String(port),
    HOST: '127.0.0.1',
    APP_URL: baseUrl,
    KERNEL_GATEWAY_URL: gatewayUrl,
    KILN_GATEWAY_TOKEN: gatewayToken,
    KILN_SECRETS_KEY: randomBytes(32).toString('base64'),
    // Schedule ticks are looked for every 2 s, so a test sees a run soon after its tick.
    KILN_SCHEDULE_INTERVAL_SECONDS: '2',
    // Automatic history a test can watch: a version once edits pause for 2 s.
    KILN_HISTORY_IDLE_SECONDS: '2',
    KILN_HISTORY_INTERVAL_SECONDS: '30',
  });
  await waitForHttp(`${baseUrl}/sign-in`, web.child, web.output);
  process.env.KILN_E2E_BASE_URL = baseUrl;

  return async () => {
    await stop(web.child);
    await stop(gateway.child);
    execFileSync('psql', [adminUrl, '-q', '-c', `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`]);
  };
}
