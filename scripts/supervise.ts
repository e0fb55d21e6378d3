/**
 * Keeps Kiln's long-running processes up for `npm start`: a child that exits is started again after an
 * exponential backoff (1 s, 2 s, 4 s ... 30 s; back to 1 s once it has run a minute), while the others
 * keep running. Ctrl-C or SIGTERM stops every child (SIGTERM, then SIGKILL after 10 s) and exits.
 *
 *   node --import tsx scripts/supervise.ts \
 *     --process 'gateway=node --import tsx apps/kernel-gateway/src/main.ts' \
 *     --process 'web=node --import tsx apps/web/src/server.ts' \
 *     --ready 'web=http://127.0.0.1:3000/sign-in=web app on http://localhost:3000'
 *
 * Each child runs in its own process group so a Ctrl-C reaches only the supervisor, which then stops
 * the children in order; a child's own output passes through unchanged.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { parseArgs } from 'node:util';

interface Spec {
  name: string;
  command: string;
  /** Polled after each start; `message` is printed once it answers with a status below 500. */
  ready?: { url: string; message: string };
}

const BACKOFF_MAX_MS = 30_000;
const STABLE_MS = 60_000;
const STOP_GRACE_MS = 10_000;

function log(message: string): void {
  process.stdout.write(`kiln: ${message}\n`);
}

function parseSpecs(): { specs: Spec[]; backoffMs: number } {
  const { values } = parseArgs({
    options: {
      process: { type: 'string', multiple: true },
      ready: { type: 'string', multiple: true },
      // The first restart delay; tests shorten it.
      'backoff-ms': { type: 'string', default: '1000' },
    },
  });
  const specs = (values.process ?? []).map((entry): Spec => {
    const at = entry.indexOf('=');
    if (at <= 0) throw new Error(`--process needs name=command, got ${entry}`);
    return { name: entry.slice(0, at), command: entry.slice(at + 1) };
  });
  for (const entry of values.ready ?? []) {
    const match = /^([^=]+)=(https?:\/\/[^=]+)=(.*)$/.exec(entry);
    const spec = specs.find((candidate) => candidate.name === match?.[1]);
    if (!match || !spec) throw new Error(`--ready needs name=url=message for a --process name, got ${entry}`);
    spec.ready = { url: match[2] as string, message: match[3] as string };
  }
  if (specs.length === 0) throw new Error('nothing to supervise: pass --process name=command');
  return { specs, backoffMs: Number(values['backoff-ms']) };
}

class Supervised {
  child: ChildProcess | undefined;
  private failures = 0;
  private restartTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly spec: Spec,
    private readonly stopping: () => boolean,
    private readonly backoffMs: number,
  ) {}

  start(): void {
    const startedAt = Date.now();
    // exec: the shell is replaced, so the pid we signal is the program's own.
    const child = spawn('bash', ['-c', `exec ${this.spec.command}`], { stdio: 'inherit', detached: true });
    this.child = child;
    log(`${this.spec.name} started (pid ${child.pid})`);
    if (this.spec.ready) void this.announceWhenReady(child, this.spec.ready);
    child.on('exit', (code, signal) => {
      if (this.child === child) this.child = undefined;
      if (this.stopping()) return;
      this.failures = Date.now() - startedAt >= STABLE_MS ? 1 : this.failures + 1;
      const delay = Math.min(BACKOFF_MAX_MS, this.backoffMs * 2 ** (this.failures - 1));
      log(
        `${this.spec.name} exited (${signal ?? `code ${code}`}); restarting in ${Math.round(delay / 100) / 10} s`,
      );
      this.restartTimer = setTimeout(() => this.start(), delay);
    });
  }

  private async announceWhenReady(child: ChildProcess, ready: { url: string; message: string }) {
    while (this.child === child && !this.stopping()) {
      try {
        const response = await fetch(ready.url, { signal: AbortSignal.timeout(5000) });
        await response.body?.cancel();
        if (response.status < 500) {
          log(ready.message);
          return;
        }
      } catch {
        // not answering yet
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  async stop(): Promise<void> {
    clearTimeout(this.restartTimer);
    const child = this.child;
    if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const signalGroup = (signal: NodeJS.Signals) => {
      try {
        process.kill(-(child.pid as number), signal);
      } catch {
        // already gone
      }
    };
    signalGroup('SIGTERM');
    const killer = setTimeout(() => signalGroup('SIGKILL'), STOP_GRACE_MS);
    await exited;
    clearTimeout(killer);
  }
}

function main(): void {
  const { specs, backoffMs } = parseSpecs();
  let stopping = false;
  const children = specs.map((spec) => new Supervised(spec, () => stopping, backoffMs));
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping ${specs.map((spec) => spec.name).join(' and ')}`);
    // Stop in reverse start order: the web app goes before the gateway it talks to.
    for (const child of [...children].reverse()) await child.stop();
    log('stopped');
    process.exit(0);
  };
  // Children run in their own process groups, so nothing else would stop them if the supervisor died
  // of an error: take them down with it.
  process.on('exit', () => {
    for (const { child } of children) {
      if (child?.pid && child.exitCode === null) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
  });
  process.on('SIGINT', () => void shutdown('Ctrl-C'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGHUP', () => void shutdown('SIGHUP'));
  for (const child of children) child.start();
}

main();
