import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createTestDatabase } from '@kiln/db/testing';
import { createScheduler, discoverGpus } from '@kiln/scheduler';

export interface LatencySummary {
  p50: number;
  p99: number;
  max: number;
  n: number;
}

export interface PostgresResult {
  /** One process placing alone: the cost of a placement without contention. */
  alone: LatencySummary;
  /** Two processes placing at the same time onto the same three nodes. */
  concurrent: LatencySummary;
  failures: string[];
}

function summarize(samples: number[]): LatencySummary {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  return { p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1] ?? Number.NaN, n: sorted.length };
}

function runPlacer(url: string, workspaces: string, count: number) {
  const script = fileURLToPath(new URL('./placer-process.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script, url, workspaces, String(count)], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    if (stdout.includes('ready\n')) markReady();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const done = new Promise<{ latenciesMs: number[]; failures: string[] }>((resolve, reject) => {
    child.once('exit', (code) => {
      const line = stdout.split('\n').find((text) => text.startsWith('{'));
      if (code === 0 && line) resolve(JSON.parse(line));
      else reject(new Error(`placer exited with ${code}: ${stderr}`));
    });
  });
  return {
    ready: Promise.race([ready, done.then(() => undefined)]),
    go: () => child.stdin.end('go\n'),
    done,
  };
}

/**
 * p50/p99 of one placement (admission, choice, node lock and commit) against the real Postgres, with
 * three registered nodes: first one process alone, then two processes at once. A database of its own.
 */
export async function benchPostgres(count: number): Promise<PostgresResult> {
  const database = await createTestDatabase({ max: 4 });
  try {
    const scheduler = createScheduler({ db: database.db });
    for (const [id, type] of [
      ['node-a', 'H100'],
      ['node-b', 'H100'],
      ['node-c', 'A100-80GB'],
    ] as const) {
      await scheduler.registerNode({
        id,
        url: `http://127.0.0.1:1/${id}`,
        cpu: 64,
        memoryMiB: 512 * 1024,
        gpus: await discoverGpus({ declared: [{ type, count: 8 }] }),
      });
    }
    const workspaces: string[] = [];
    for (let n = 0; n < 4; n++) {
      const suffix = randomBytes(4).toString('hex');
      const row = await database.db.workspace.create({
        data: { name: `bench ${suffix}`, slug: `bench-${suffix}`, plan: 'TEAM' },
      });
      workspaces.push(row.id);
    }
    const run = async (processes: number) => {
      const placers = Array.from({ length: processes }, (_, i) =>
        runPlacer(database.url, workspaces.filter((_, n) => n % processes === i).join(','), count),
      );
      await Promise.all(placers.map((placer) => placer.ready));
      for (const placer of placers) placer.go();
      return Promise.all(placers.map((placer) => placer.done));
    };
    const alone = await run(1);
    const together = await run(2);
    await scheduler.close();
    return {
      alone: summarize(alone.flatMap((result) => result.latenciesMs)),
      concurrent: summarize(together.flatMap((result) => result.latenciesMs)),
      failures: [...alone, ...together].flatMap((result) => result.failures),
    };
  } finally {
    await database.drop();
  }
}
