/**
 * Run inside a network namespace whose only device is lo, with the default route pointing at it (see
 * tests/no-phone-home.spec.ts): a connection to any outside address then stays in SYN_SENT instead
 * of failing at once, so it shows in /proc/net/tcp. Starts the embedded Postgres, the kernel gateway
 * and the built web app as `npm start` does, uses them, and prints one JSON line: every socket with
 * a remote address outside loopback seen while they ran, and whether a probe connection made on
 * purpose was seen (proof that the watch works).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** An address reserved for documentation (TEST-NET-1): the probe's connection attempt goes here. */
const PROBE = { host: '192.0.2.1', port: 9 };

/** A /proc/net address ("0100007F:1F90", or 32 hex digits for IPv6) as text, or null for loopback/unset. */
function foreign(hex: string): string | null {
  const [address = '', port = ''] = hex.split(':');
  if (/^0+$/.test(address)) return null;
  if (address.length === 8) {
    const bytes = (address.match(/../g) ?? []).map((byte) => Number.parseInt(byte, 16)).reverse();
    if (bytes[0] === 127) return null;
    return `${bytes.join('.')}:${Number.parseInt(port, 16)}`;
  }
  // IPv6: ::1 and IPv4-mapped loopback (::ffff:127.x.x.x) are local.
  if (address === '00000000000000000000000001000000') return null;
  if (/^0000000000000000FFFF0000[0-9A-F]{6}7F$/i.test(address)) return null;
  return `[${address}]:${Number.parseInt(port, 16)}`;
}

const seen = new Set<string>();
async function watch(): Promise<void> {
  for (const table of ['tcp', 'tcp6', 'udp', 'udp6']) {
    const text = await readFile(`/proc/net/${table}`, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const remote = line.trim().split(/\s+/)[2];
      const address = remote ? foreign(remote) : null;
      if (address) seen.add(`${table} ${address}`);
    }
  }
}

function start(script: string[], env: NodeJS.ProcessEnv, log: string[]): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', ...script], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk) => log.push(String(chunk)));
  child.stderr?.on('data', (chunk) => log.push(String(chunk)));
  return child;
}

async function until(what: string, check: () => Promise<boolean> | boolean, log: string[]): Promise<void> {
  const deadline = Date.now() + 300_000;
  while (
    !(await Promise.resolve()
      .then(check)
      .catch(() => false))
  ) {
    if (Date.now() > deadline) throw new Error(`${what} never came up:\n${log.join('')}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

const answers =
  (url: string, headers: Record<string, string> = {}) =>
  async () =>
    (await fetch(url, { headers, signal: AbortSignal.timeout(10_000) })).status < 500;

async function main(): Promise<void> {
  const timer = setInterval(() => void watch(), 50);
  const dir = await mkdtemp(path.join(tmpdir(), 'kiln-no-phone-home-'));
  const children: ChildProcess[] = [];
  const log: string[] = [];
  try {
    const dbPort = 15432;
    children.push(
      start(
        [
          'packages/db/src/cli.ts',
          'embedded',
          '--migrate',
          '--data-dir',
          `${dir}/pg`,
          '--port',
          String(dbPort),
        ],
        {},
        log,
      ),
    );
    await until('the embedded Postgres', () => log.join('').includes('ready at'), log);
    const token = randomBytes(24).toString('hex');
    children.push(
      start(
        ['apps/kernel-gateway/src/main.ts'],
        {
          PORT: '18888',
          HOST: '127.0.0.1',
          KILN_GATEWAY_TOKEN: token,
          KILN_STATE_DIR: `${dir}/gateway`,
          // A scheduler node, as under npm start: its heartbeats are part of what must stay local.
          DATABASE_URL: `postgresql://postgres@127.0.0.1:${dbPort}/postgres`,
          KILN_GPUS: 'none',
        },
        log,
      ),
    );
    children.push(
      start(
        ['apps/web/src/server.ts'],
        {
          NODE_ENV: 'production',
          PORT: '13000',
          HOST: '127.0.0.1',
          APP_URL: 'http://127.0.0.1:13000',
          // The tests make many unrelated accounts; sign-up by invitation has its own tests.
          KILN_SIGN_UP: 'open',
          DATABASE_URL: `postgresql://postgres@127.0.0.1:${dbPort}/postgres`,
          KERNEL_GATEWAY_URL: 'http://127.0.0.1:18888',
          KILN_GATEWAY_TOKEN: token,
        },
        log,
      ),
    );
    await until('the gateway', answers('http://127.0.0.1:18888/api'), log);
    await until('the web app', answers('http://127.0.0.1:13000/sign-in'), log);
    for (const page of ['/', '/sign-in', '/sign-up', '/api/trpc/auth.me']) {
      await answers(`http://127.0.0.1:13000${page}`)();
    }
    await answers('http://127.0.0.1:18888/api/kernels', { authorization: `token ${token}` })();
    // Telemetry is often sent a little after start or after the first requests: keep watching.
    await new Promise((resolve) => setTimeout(resolve, 15_000));
    await watch();
    const fromApp = [...seen];
    const probe = connect(PROBE);
    probe.on('error', () => {});
    await new Promise((resolve) => setTimeout(resolve, 500));
    await watch();
    probe.destroy();
    const probeSeen = seen.has(`tcp ${PROBE.host}:${PROBE.port}`);
    process.stdout.write(`${JSON.stringify({ foreign: fromApp, probeSeen })}\n`);
  } finally {
    clearInterval(timer);
    for (const child of children.reverse()) {
      child.kill('SIGTERM');
      if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve));
    }
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
