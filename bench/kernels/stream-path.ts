/**
 * The stdout path alone, Kiln (warm pool) against Jupyter Server with its rate limits lifted, runs
 * alternating in one sitting so load hits both alike: 20 MiB written as 20,480 lines of 1 KiB with
 * `sys.stdout.write`, read by the same plain websocket client. Reports throughput, the messages the
 * client got, and the CPU each run cost split into client, server and (Kiln) sandbox.
 *
 * `npx tsx bench/kernels/stream-path.ts` (BENCH_STREAM_ROUNDS, default 5; BENCH_LABEL names the run,
 * default the commit; KILN_PROF=<dir> for a gateway CPU profile). Each run is added to bench/results/stream-path.json, and stream-path.md is
 * written from all of them, so a change to the path can be compared with the run before it.
 */
import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuSpent, sampleCpu } from './cpu.ts';
import type { PlainChannel } from './plain-client.ts';
import { runBenchmark, type Server } from './servers.ts';
import { median, openKernel, STREAM_BYTES, STREAM_CODE, startStdoutPair } from './stdout-pair.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ROUNDS = Number(process.env.BENCH_STREAM_ROUNDS ?? 5);
const RESULTS = join(root, 'bench', 'results', 'stream-path.json');

interface Sample {
  mbps: number;
  messages: number;
  cpuMs: { client: number; server: number; sandboxes: number; total: number };
}

interface Side {
  mbps: number[];
  messages: number[];
  cpuMs: Sample['cpuMs'][];
}

interface Run {
  label: string;
  date: string;
  rounds: number;
  load: { before: number; after: number };
  jupyter: Side;
  kiln: Side;
}

async function stream(server: Server, channel: PlainChannel): Promise<Sample> {
  let received = 0;
  let messages = 0;
  const before = sampleCpu(server);
  const t0 = performance.now();
  await channel.execute(STREAM_CODE, {
    timeoutMs: 300_000,
    onMessage: (m) => {
      if (m.header.msg_type !== 'stream' || m.content.name !== 'stdout') return;
      received += Buffer.byteLength(String(m.content.text));
      messages += 1;
    },
  });
  const seconds = (performance.now() - t0) / 1000;
  if (received !== STREAM_BYTES) throw new Error(`${server.label} lost ${STREAM_BYTES - received} bytes`);
  return { mbps: STREAM_BYTES / seconds / 1e6, messages, cpuMs: cpuSpent(before, sampleCpu(server)) };
}

function add(side: Side, sample: Sample) {
  side.mbps.push(sample.mbps);
  side.messages.push(sample.messages);
  side.cpuMs.push(sample.cpuMs);
}

function commitLabel(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: root,
      encoding: 'utf8',
    }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'apps', 'packages'], {
      cwd: root,
      encoding: 'utf8',
    }).trim();
    return dirty ? `${head} + uncommitted changes` : head;
  } catch {
    return 'unknown commit';
  }
}

const f1 = (v: number) => v.toFixed(1);
const f0 = (v: number) => v.toFixed(0);

function markdown(runs: Run[]): string {
  const lines = [
    '# stdout path: Kiln gateway (runsc) vs Jupyter Server, rate limits lifted',
    '',
    'Written by `npx tsx bench/kernels/stream-path.ts`: per run, 20 MiB of stdout (20,480 lines of 1 KiB with',
    '`sys.stdout.write`) read by the same plain websocket client (bench/kernels/plain-client.ts), Kiln and',
    'Jupyter alternating within the run. Medians over the rounds; CPU is client + server + sandboxes (Jupyter:',
    "the server and its kernel processes), from /proc and the sandboxes' cpuacct cgroups. Load is the 1-minute",
    'load average of the 2-core machine, shared with other work.',
    '',
    '| Run | Load before / after | Jupyter MB/s | Kiln MB/s | Kiln / Jupyter | Messages per 20 MiB (Jupyter / Kiln) | CPU ms per 20 MiB, Jupyter (client + server) | CPU ms per 20 MiB, Kiln (client + gateway + sandbox) |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const run of runs) {
    const cpu = (side: Side, key: keyof Sample['cpuMs']) => median(side.cpuMs.map((c) => c[key]));
    const j = median(run.jupyter.mbps);
    const k = median(run.kiln.mbps);
    lines.push(
      `| ${run.label} (${run.date.slice(0, 16).replace('T', ' ')}, n=${run.rounds}) | ${f1(run.load.before)} / ${f1(run.load.after)} | ${f1(j)} [${run.jupyter.mbps.map(f1).join(', ')}] | ${f1(k)} [${run.kiln.mbps.map(f1).join(', ')}] | **${(k / j).toFixed(2)}x** | ${median(run.jupyter.messages)} / ${median(run.kiln.messages)} | ${f0(cpu(run.jupyter, 'total'))} (${f0(cpu(run.jupyter, 'client'))} + ${f0(cpu(run.jupyter, 'server'))}) | ${f0(cpu(run.kiln, 'total'))} (${f0(cpu(run.kiln, 'client'))} + ${f0(cpu(run.kiln, 'server'))} + ${f0(cpu(run.kiln, 'sandboxes'))}) |`,
    );
  }
  lines.push(
    '',
    "Target (issue 10): Kiln's stdout at least 3x Jupyter Server's with its limits lifted, no byte lost.",
    '',
  );
  return `${lines.join('\n')}\n`;
}

async function main() {
  const run: Run = {
    label: process.env.BENCH_LABEL ?? commitLabel(),
    date: new Date().toISOString(),
    rounds: ROUNDS,
    load: { before: loadavg()[0] as number, after: Number.NaN },
    jupyter: { mbps: [], messages: [], cpuMs: [] },
    kiln: { mbps: [], messages: [], cpuMs: [] },
  };
  const { jupyter, kiln } = await startStdoutPair();
  const j = await openKernel(jupyter);
  const k = await openKernel(kiln);
  // One unmeasured run each: the first one pays for page faults and allocations that later ones reuse.
  await stream(jupyter, j);
  await stream(kiln, k);
  for (let r = 0; r < ROUNDS; r++) {
    add(run.jupyter, await stream(jupyter, j));
    add(run.kiln, await stream(kiln, k));
    console.log(
      `round ${r + 1}/${ROUNDS}: jupyter ${f1(run.jupyter.mbps.at(-1) as number)} MB/s, kiln ${f1(run.kiln.mbps.at(-1) as number)} MB/s`,
    );
  }
  run.load.after = loadavg()[0] as number;
  await j.close();
  await k.close();
  let runs: Run[] = [];
  try {
    runs = (JSON.parse(await readFile(RESULTS, 'utf8')) as { runs: Run[] }).runs;
  } catch {
    // the first run
  }
  runs.push(run);
  await writeFile(RESULTS, `${JSON.stringify({ runs }, null, 2)}\n`);
  await writeFile(join(root, 'bench', 'results', 'stream-path.md'), markdown(runs));
  console.log(markdown([run]));
}

runBenchmark(main);
