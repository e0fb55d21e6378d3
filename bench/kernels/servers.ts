/** The two servers the kernel benchmark compares, started and stopped as separate processes. */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../notebook/app.ts';
import { createPlainClient, type PlainClient } from './plain-client.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface Server {
  label: string;
  client: PlainClient;
  process: ChildProcess;
  /** Kiln only: its state dir (runsc's root is `<stateDir>/runsc`). */
  stateDir?: string;
}

/**
 * Waits until the server answers and, for Kiln, has its sandboxes ready (snapshot built): otherwise
 * the first measured start would include building the snapshot, which happens once per machine.
 */
async function waitUp(
  client: PlainClient,
  child: ChildProcess,
  label: string,
  log: () => string,
  ready: () => boolean,
) {
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${label} exited: ${log()}`);
    try {
      await client.listKernels();
      if (ready()) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${label} did not come up: ${log()}`);
}

/** Every server started, so the benchmark can stop what is left when it fails. */
export const started: Server[] = [];

async function startProcess(
  label: string,
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  port: number,
  token: string,
  stateDir?: string,
) {
  const child = spawn(command, args, {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  // Jupyter is ready once it answers; the Kiln gateway once it says its snapshot is built.
  let sandboxesReady = !label.startsWith('kiln');
  const collect = (d: Buffer) => {
    output = (output + d).slice(-4000);
    if (process.env.BENCH_SERVER_LOG) appendFileSync(process.env.BENCH_SERVER_LOG, d);
    if (String(d).includes('sandboxes ready')) sandboxesReady = true;
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const client = createPlainClient(`http://127.0.0.1:${port}`, token);
  const server: Server = { label, client, process: child, stateDir };
  started.push(server);
  await waitUp(
    client,
    child,
    label,
    () => output,
    () => sandboxesReady,
  );
  return server;
}

/** Kiln's kernel gateway as a standalone process on a free port with its own state dir. */
export async function startKiln(
  label: string,
  extraEnv: NodeJS.ProcessEnv,
  nodeArgs: string[] = [],
): Promise<Server> {
  const port = await freePort();
  const token = randomBytes(24).toString('hex');
  const stateDir = await mkdtemp(join(tmpdir(), 'kiln-bench-'));
  return startProcess(
    label,
    process.execPath,
    [...nodeArgs, '--import', 'tsx', 'apps/kernel-gateway/src/main.ts'],
    {
      PORT: String(port),
      KILN_GATEWAY_TOKEN: token,
      KILN_STATE_DIR: stateDir,
      KILN_CULL_IDLE_SECONDS: '0',
      // A standalone gateway (clients start kernels directly), even when the shell has a database set.
      DATABASE_URL: undefined,
      ...extraEnv,
    },
    port,
    token,
    stateDir,
  );
}

/** Jupyter Server on a free port with its own runtime, config and data dirs. */
export async function startJupyter(label: string, extraArgs: string[]): Promise<Server> {
  const port = await freePort();
  const token = randomBytes(24).toString('hex');
  const dir = await mkdtemp(join(tmpdir(), 'jupyter-bench-'));
  return startProcess(
    label,
    '/usr/bin/python3',
    [
      '-m',
      'jupyter_server',
      `--ServerApp.token=${token}`,
      `--ServerApp.port=${port}`,
      '--allow-root',
      '--ServerApp.open_browser=False',
      `--ServerApp.root_dir=${dir}`,
      ...extraArgs,
    ],
    {
      JUPYTER_RUNTIME_DIR: join(dir, 'runtime'),
      JUPYTER_CONFIG_DIR: join(dir, 'config'),
      JUPYTER_DATA_DIR: join(dir, 'data'),
    },
    port,
    token,
  );
}

/** SIGTERM, then waits up to 10 s for the process to go. */
export async function stop(server: Server) {
  server.process.kill('SIGTERM');
  await new Promise((resolve) => {
    if (server.process.exitCode !== null) resolve(null);
    server.process.once('exit', resolve);
    setTimeout(resolve, 10_000);
  });
  // A Kiln state dir holds a ~100 MB snapshot per run; removed unless something is still mounted in it
  // (a workspace volume the gateway did not get to unmount), which is left for a person to look at.
  const dir = server.stateDir;
  if (dir && server.process.exitCode !== null) {
    const mounts = readFileSync('/proc/self/mounts', 'utf8');
    if (mounts.split('\n').some((line) => line.split(' ')[1]?.startsWith(`${dir}/`)))
      console.error(`[bench] ${dir} still has mounts; left in place`);
    else await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Runs a benchmark's `main` and exits with its outcome, after stopping every server it started, also
 * when it failed (a gateway left running keeps its sandboxes).
 */
export function runBenchmark(main: () => Promise<void>): void {
  main()
    .then(
      () => 0,
      (error) => {
        console.error(error);
        return 1;
      },
    )
    .then(async (code) => {
      await Promise.all(started.filter((s) => s.process.exitCode === null).map(stop));
      process.exit(code);
    });
}
