import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuSpent, sampleCpu } from './cpu.ts';
import { sampleKernelMemory } from './memory.ts';
import type { PlainChannel } from './plain-client.ts';
import { runBenchmark, type Server, startJupyter, startKiln, stop } from './servers.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ROUND_TRIPS = Number(process.env.BENCH_ROUND_TRIPS ?? 200);
const STARTS = Number(process.env.BENCH_STARTS ?? 4);
const INTERRUPTS = Number(process.env.BENCH_INTERRUPTS ?? 5);
const HIBERNATIONS = Number(process.env.BENCH_HIBERNATIONS ?? 3);
const STREAM_BYTES = 20 * 1024 * 1024;
const STREAM_RUNS = Number(process.env.BENCH_STREAM_RUNS ?? 5);

const BURST = Number(process.env.BENCH_BURST ?? 8);

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function ready(
  server: Server,
): Promise<{ ms: number; startedFrom: string; id: string; channel: PlainChannel }> {
  const t0 = performance.now();
  const model = await server.client.startKernel({ name: 'python3' });
  const channel = await server.client.connect(model.id);
  await channel.request('shell', 'kernel_info_request', {}, 120_000);
  const ms = performance.now() - t0;
  return {
    ms,
    startedFrom: (model as { started_from?: string }).started_from ?? 'process',
    id: model.id,
    channel,
  };
}

async function measureStarts(server: Server, count: number, pauseMs: number) {
  const samples: Array<{ ms: number; startedFrom: string }> = [];
  for (let i = 0; i < count; i++) {
    progress(`${server.label}: kernel start ${i + 1}/${count}`);
    const { ms, startedFrom, id, channel } = await ready(server);
    samples.push({ ms, startedFrom });
    await channel.close();
    await server.client.shutdownKernel(id);
    // Lets a warm pool refill, as it would between real users.
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
  return samples;
}

async function measureRoundTrips(channel: PlainChannel) {
  for (let i = 0; i < 10; i++) await channel.execute('1+1');
  const samples: number[] = [];
  for (let i = 0; i < ROUND_TRIPS; i++) {
    const t0 = performance.now();
    const { iopub } = await channel.execute('1+1');
    samples.push(performance.now() - t0);
    if (!iopub.some((m) => m.header.msg_type === 'execute_result'))
      throw new Error('1+1 gave no execute_result');
  }
  return { p50: percentile(samples, 50), p99: percentile(samples, 99), n: samples.length };
}

/** One 20 MB run: every stdout byte counted; anything on stderr is a notice (Jupyter's rate limit). */
async function streamOnce(channel: PlainChannel) {
  const code = `import sys\nline = 'x' * 1023 + '\\n'\nfor _ in range(${STREAM_BYTES / 1024}):\n    sys.stdout.write(line)\nsys.stdout.flush()`;
  let received = 0;
  const notices: string[] = [];
  const t0 = performance.now();
  await channel.execute(code, {
    timeoutMs: 300_000,
    onMessage: (message) => {
      if (message.header.msg_type !== 'stream') return;
      const text = String(message.content.text);
      if (message.content.name === 'stdout') received += Buffer.byteLength(text);
      else notices.push(text.trim().slice(0, 160));
    },
  });
  return { received, seconds: (performance.now() - t0) / 1000, notice: notices[0] ?? null };
}

/** STREAM_RUNS runs of 20 MB in one kernel; the median run is reported, the first one too, and the CPU each run cost. */
async function measureStream(server: Server, channel: PlainChannel) {
  const runs: Array<Awaited<ReturnType<typeof streamOnce>> & { cpu: ReturnType<typeof cpuSpent> }> = [];
  for (let i = 0; i < STREAM_RUNS; i++) {
    const before = sampleCpu(server);
    const run = await streamOnce(channel);
    runs.push({ ...run, cpu: cpuSpent(before, sampleCpu(server)) });
  }
  const rates = runs.map((run) => run.received / run.seconds);
  const median = [...runs].sort((a, b) => a.received / a.seconds - b.received / b.seconds)[
    Math.floor(runs.length / 2)
  ] as (typeof runs)[number];
  const cpuMedian = (key: 'client' | 'server' | 'sandboxes' | 'total') =>
    percentile(
      runs.map((run) => run.cpu[key]),
      50,
    );
  return {
    bytes: STREAM_BYTES,
    received: median.received,
    lost: Math.max(...runs.map((run) => STREAM_BYTES - run.received)),
    bytesPerSecond: median.received / median.seconds,
    firstRunBytesPerSecond: rates[0] ?? Number.NaN,
    runs: rates.length,
    seconds: median.seconds,
    notice: runs.find((run) => run.notice)?.notice ?? null,
    cpuMs: {
      client: cpuMedian('client'),
      server: cpuMedian('server'),
      sandboxes: cpuMedian('sandboxes'),
      total: cpuMedian('total'),
    },
  };
}

async function measureInterrupts(server: Server, id: string, channel: PlainChannel) {
  const samples: number[] = [];
  for (let i = 0; i < INTERRUPTS; i++) {
    let onRunning: () => void = () => undefined;
    const running = new Promise<void>((resolve) => (onRunning = resolve));
    const done = channel.execute('while True: pass', {
      timeoutMs: 30_000,
      onMessage: (m) => m.header.msg_type === 'execute_input' && onRunning(),
    });
    await running;
    await new Promise((resolve) => setTimeout(resolve, 300));
    const t0 = performance.now();
    await server.client.interruptKernel(id);
    const { reply } = await done;
    samples.push(performance.now() - t0);
    if (reply.content.status !== 'error') throw new Error('interrupt did not stop the loop');
  }
  return { p50: percentile(samples, 50), max: Math.max(...samples), n: samples.length };
}

/** Lets a kernel hibernate (idle time 1 s), then times the checkpoint and the first cell that wakes it. */
async function measureHibernation(server: Server) {
  const { id, channel } = await ready(server);
  await channel.execute('import numpy as np\nx = int(np.arange(1_000_000).sum())');
  const checkpoints: number[] = [];
  const wakes: number[] = [];
  for (let i = 0; i < HIBERNATIONS; i++) {
    progress(`${server.label}: hibernation ${i + 1}/${HIBERNATIONS}`);
    let since: number | undefined;
    const deadline = Date.now() + 120_000;
    for (;;) {
      const state = (await server.client.getKernel(id)).hibernation;
      if (state === 'hibernating') since ??= performance.now();
      if (state === 'hibernated') break;
      if (Date.now() > deadline) throw new Error(`kernel never hibernated (state ${state})`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    if (since !== undefined) checkpoints.push(performance.now() - since);
    const t0 = performance.now();
    const { iopub } = await channel.execute('x + 1', { timeoutMs: 120_000 });
    wakes.push(performance.now() - t0);
    const result = iopub.find((m) => m.header.msg_type === 'execute_result')?.content.data;
    if (JSON.stringify(result) !== JSON.stringify({ 'text/plain': '499999500001' }))
      throw new Error(`variables did not survive hibernation: ${JSON.stringify(result)}`);
  }
  await channel.close();
  await server.client.shutdownKernel(id);
  return {
    checkpoint: { p50: percentile(checkpoints, 50), n: checkpoints.length },
    wake: { p50: percentile(wakes, 50), max: Math.max(...wakes), n: wakes.length },
  };
}

/** BURST kernels requested at once: time until every one has answered kernel_info. */
async function measureBurst(server: Server) {
  progress(`${server.label}: ${BURST} kernels at once`);
  const t0 = performance.now();
  const kernels = await Promise.all(Array.from({ length: BURST }, () => ready(server)));
  const allMs = performance.now() - t0;
  const each = kernels.map((k) => k.ms);
  for (const kernel of kernels) {
    await kernel.channel.close();
    await server.client.shutdownKernel(kernel.id);
  }
  return { n: BURST, allMs, firstMs: Math.min(...each), origins: kernels.map((k) => k.startedFrom) };
}

/**
 * Per kernel, with BURST idle kernels running: for Kiln everything its sandbox costs the host (the
 * memory cgroup's charge, and RSS/PSS summed over sandbox, gofer and systrap stubs); for Jupyter the
 * ipykernel process, bare and after importing what Kiln's kernels have preloaded.
 */
async function measureIdleMemory(server: Server) {
  progress(`${server.label}: memory of ${BURST} idle kernels`);
  const kernels = [];
  for (let i = 0; i < BURST; i++) kernels.push(await ready(server));
  await new Promise((resolve) => setTimeout(resolve, 5000));
  const measure = () => sampleKernelMemory(server);
  const bare = measure();
  let withLibraries: ReturnType<typeof measure> | undefined;
  if (!server.stateDir) {
    for (const kernel of kernels)
      await kernel.channel.execute('import numpy, pandas, matplotlib', { timeoutMs: 120_000 });
    await new Promise((resolve) => setTimeout(resolve, 2000));
    withLibraries = measure();
  }
  for (const kernel of kernels) {
    await kernel.channel.close();
    await server.client.shutdownKernel(kernel.id);
  }
  return { bare, withLibraries };
}

const progress = (text: string) => console.error(`[bench] ${new Date().toISOString().slice(11, 19)} ${text}`);

async function measureSession(server: Server) {
  progress(`${server.label}: round trips, stream, interrupts`);
  const { id, channel } = await ready(server);
  const roundTrip = await measureRoundTrips(channel);
  progress(`${server.label}: 20 MB stream`);
  const stream = await measureStream(server, channel);
  progress(`${server.label}: interrupts`);
  const interrupt = await measureInterrupts(server, id, channel);
  await channel.close();
  await server.client.shutdownKernel(id);
  return { roundTrip, stream, interrupt };
}

const fmt = (ms: number) => `${ms.toFixed(1)} ms`;
const cpuText = (cpu: { client: number; server: number; sandboxes: number; total: number }) =>
  `${cpu.total.toFixed(0)} ms (${cpu.client.toFixed(0)} + ${cpu.server.toFixed(0)} + ${cpu.sandboxes.toFixed(0)})`;
const mbps = (bytesPerSecond: number) => `${(bytesPerSecond / 1e6).toFixed(1)} MB/s`;

async function main() {
  const loadBefore = loadavg();
  // The 1-minute load average every 30 s while the benchmark runs: what the numbers were measured under.
  const loadSamples = [loadBefore[0] as number];
  const loadTimer = setInterval(() => loadSamples.push(loadavg()[0] as number), 30_000);
  const results: Record<string, unknown> = {
    date: new Date().toISOString(),
    host: `${process.platform} ${process.arch}`,
  };

  const jupyter = await startJupyter('jupyter-server-1.23', []);
  const jupyterStarts = await measureStarts(jupyter, STARTS, 200);
  const jupyterSession = await measureSession(jupyter);
  const jupyterBurst = await measureBurst(jupyter);
  const jupyterMemory = await measureIdleMemory(jupyter);
  await stop(jupyter);
  const unlimited = await startJupyter('jupyter-server-1.23 (rate limit lifted)', [
    '--ServerApp.iopub_data_rate_limit=1e12',
    '--ServerApp.iopub_msg_rate_limit=1e9',
  ]);
  const { id: uid, channel: uchannel } = await ready(unlimited);
  const jupyterUnlimitedStream = await measureStream(unlimited, uchannel);
  await uchannel.close();
  await unlimited.client.shutdownKernel(uid);
  await stop(unlimited);

  const pooled = await startKiln('kiln (warm pool 1)', { KILN_WARM_POOL_SIZE: '1' });
  await new Promise((resolve) => setTimeout(resolve, 15_000));
  const kilnPool = await measureStarts(pooled, STARTS, 15_000);
  const kilnSession = await measureSession(pooled);
  await new Promise((resolve) => setTimeout(resolve, 5_000));
  const kilnBurst = await measureBurst(pooled);
  await stop(pooled);
  const unpooled = await startKiln('kiln (no pool)', { KILN_WARM_POOL_SIZE: '0' });
  const kilnNoPool = await measureStarts(unpooled, STARTS, 500);
  const kilnMemory = await measureIdleMemory(unpooled);
  await stop(unpooled);
  const cold = await startKiln('kiln (no pool, no snapshot)', {
    KILN_WARM_POOL_SIZE: '0',
    KILN_SNAPSHOTS: 'false',
  });
  const kilnCold = await measureStarts(cold, STARTS, 500);
  await stop(cold);
  const sleepy = await startKiln('kiln (hibernate after 1 s idle)', {
    KILN_WARM_POOL_SIZE: '0',
    KILN_HIBERNATE_IDLE_SECONDS: '1',
    KILN_CULL_INTERVAL_SECONDS: '1',
  });
  const kilnHibernation = await measureHibernation(sleepy);
  await stop(sleepy);

  const median = (samples: Array<{ ms: number }>) =>
    percentile(
      samples.map((s) => s.ms),
      50,
    );
  const byOrigin = (samples: Array<{ ms: number; startedFrom: string }>, origin: string) =>
    samples.filter((s) => s.startedFrom === origin);
  const all = [...kilnPool, ...kilnNoPool, ...kilnCold];
  const kilnReady = Object.fromEntries(
    ['pool', 'snapshot', 'cold'].map((origin) => [
      origin,
      { p50: median(byOrigin(all, origin)), n: byOrigin(all, origin).length },
    ]),
  );
  const loadAfter = loadavg();
  clearInterval(loadTimer);
  loadSamples.push(loadAfter[0] as number);
  const loadRange = `${percentile(loadSamples, 0).toFixed(1)} / ${percentile(loadSamples, 50).toFixed(1)} / ${percentile(loadSamples, 100).toFixed(1)}`;
  const load = (l: number[]) => l.map((v) => v.toFixed(2)).join(' / ');
  Object.assign(results, {
    load: { cores: availableParallelism(), before: loadBefore, after: loadAfter, during: loadSamples },
    jupyter: {
      ready: { p50: median(jupyterStarts), n: jupyterStarts.length },
      ...jupyterSession,
      streamRateLimitLifted: jupyterUnlimitedStream,
    },
    kiln: {
      ready: kilnReady,
      readySamples: all,
      ...kilnSession,
      hibernation: kilnHibernation,
      burst: kilnBurst,
      memory: kilnMemory,
    },
  });
  Object.assign(results.jupyter as object, { burst: jupyterBurst, memory: jupyterMemory });
  const jm = jupyterMemory.bare;
  const jl = jupyterMemory.withLibraries ?? jm;
  const km = kilnMemory.bare as typeof kilnMemory.bare & { charged?: number };
  const mib = (value: number | undefined) => `${(value ?? Number.NaN).toFixed(0)} MiB`;

  const j = results.jupyter as typeof jupyterSession & { ready: { p50: number } };
  const k = kilnSession;
  const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
  const rows = [
    ...Object.entries(kilnReady)
      .filter(([, v]) => v.n > 0)
      .map(([origin, v]) => [
        `Kernel ready after POST, p50 (Kiln: ${origin === 'pool' ? 'warm pool' : origin === 'snapshot' ? 'restored from snapshot' : 'cold boot'}, n=${v.n})`,
        fmt(j.ready.p50),
        fmt(v.p50),
        ratio(v.p50, j.ready.p50),
      ]),
    [
      '`1+1` round trip p50',
      fmt(j.roundTrip.p50),
      fmt(k.roundTrip.p50),
      ratio(k.roundTrip.p50, j.roundTrip.p50),
    ],
    [
      '`1+1` round trip p99',
      fmt(j.roundTrip.p99),
      fmt(k.roundTrip.p99),
      ratio(k.roundTrip.p99, j.roundTrip.p99),
    ],
    [
      `20 MB stdout: throughput, median of ${k.stream.runs} runs in one kernel (first run)`,
      `${mbps(j.stream.bytesPerSecond)} (default limits); ${mbps(jupyterUnlimitedStream.bytesPerSecond)} (${mbps(jupyterUnlimitedStream.firstRunBytesPerSecond)}) (limit lifted)`,
      `${mbps(k.stream.bytesPerSecond)} (${mbps(k.stream.firstRunBytesPerSecond)})`,
      ratio(k.stream.bytesPerSecond, jupyterUnlimitedStream.bytesPerSecond),
    ],
    [
      '20 MB stdout: CPU per run, median (client + server + sandboxes; Jupyter: server and its kernel processes)',
      cpuText(jupyterUnlimitedStream.cpuMs),
      cpuText(k.stream.cpuMs),
      ratio(k.stream.cpuMs.total, jupyterUnlimitedStream.cpuMs.total),
    ],
    [
      '20 MB stdout: bytes lost',
      `${j.stream.lost} (default; notice: ${j.stream.notice ? 'yes' : 'no'}); ${jupyterUnlimitedStream.lost} (limit lifted)`,
      `${k.stream.lost}${k.stream.notice ? ` (notice: ${k.stream.notice})` : ''}`,
      '',
    ],
    [
      'Interrupt `while True: pass` (p50 / max)',
      `${fmt(j.interrupt.p50)} / ${fmt(j.interrupt.max)}`,
      `${fmt(k.interrupt.p50)} / ${fmt(k.interrupt.max)}`,
      ratio(k.interrupt.p50, j.interrupt.p50),
    ],
    [
      `${BURST} kernels requested at once: all answered kernel_info (first)`,
      `${fmt(jupyterBurst.allMs)} (${fmt(jupyterBurst.firstMs)})`,
      `${fmt(kilnBurst.allMs)} (${fmt(kilnBurst.firstMs)}; ${[...new Set(kilnBurst.origins)].join('/')})`,
      ratio(kilnBurst.allMs, jupyterBurst.allMs),
    ],
    [
      `Idle memory per kernel, ${BURST} idle kernels: PSS (shared pages split) — Jupyter bare ipykernel / Kiln sandbox total`,
      mib(jm.pss),
      mib(km.pss),
      ratio(km.pss, jm.pss),
    ],
    [
      'Idle memory per kernel: PSS, Jupyter ipykernel after `import numpy, pandas, matplotlib` (what Kiln preloads)',
      mib(jl.pss),
      mib(km.pss),
      ratio(km.pss, jl.pss),
    ],
    [
      'Idle memory per kernel: RSS summed over processes (counts shared pages once per process)',
      `${mib(jm.rss)} bare; ${mib(jl.rss)} with the libraries`,
      mib(km.rss),
      ratio(km.rss, jm.rss),
    ],
    ['Idle memory per kernel: charged to the sandbox memory cgroup (Kiln)', 'n/a', mib(km.charged), ''],
    [
      `Idle kernel hibernates: checkpoint to disk, p50 (n=${kilnHibernation.checkpoint.n})`,
      'n/a (idle kernels are culled; variables lost)',
      fmt(kilnHibernation.checkpoint.p50),
      '',
    ],
    [
      `First cell after hibernation (restore + \`x + 1\`), p50 / max (n=${kilnHibernation.wake.n})`,
      'n/a',
      `${fmt(kilnHibernation.wake.p50)} / ${fmt(kilnHibernation.wake.max)}`,
      '',
    ],
  ];
  const met = (ok: boolean) => (ok ? 'met' : '**not met**');
  const targets = [
    ['`1+1` p50 at most 8 ms', fmt(k.roundTrip.p50), met(k.roundTrip.p50 <= 8)],
    [
      "`1+1` p99 no worse than Jupyter Server's",
      `${fmt(k.roundTrip.p99)} vs ${fmt(j.roundTrip.p99)}`,
      met(k.roundTrip.p99 <= j.roundTrip.p99),
    ],
    [
      "stdout at least 3x Jupyter Server's (limits lifted), no byte lost",
      `${ratio(k.stream.bytesPerSecond, jupyterUnlimitedStream.bytesPerSecond)}, ${k.stream.lost} lost`,
      met(k.stream.bytesPerSecond >= 3 * jupyterUnlimitedStream.bytesPerSecond && k.stream.lost === 0),
    ],
    [
      'ready from the warm pool at most 100 ms',
      fmt(kilnReady.pool?.p50 ?? Number.NaN),
      met((kilnReady.pool?.p50 ?? Infinity) <= 100),
    ],
    [
      'ready from a snapshot at most 500 ms',
      fmt(kilnReady.snapshot?.p50 ?? Number.NaN),
      met((kilnReady.snapshot?.p50 ?? Infinity) <= 500),
    ],
    [
      'first cell after hibernation at most 1 s',
      fmt(kilnHibernation.wake.p50),
      met(kilnHibernation.wake.p50 <= 1000),
    ],
    [
      `${BURST} kernels at once no slower than Jupyter Server`,
      ratio(kilnBurst.allMs, jupyterBurst.allMs),
      met(kilnBurst.allMs <= jupyterBurst.allMs),
    ],
    [
      "idle memory per kernel at most 1.5x an unsandboxed ipykernel's (PSS; bare / with Kiln's preloaded libraries)",
      `${ratio(km.pss, jm.pss)} / ${ratio(km.pss, jl.pss)}`,
      `${met(km.pss <= 1.5 * jm.pss)} / ${met(km.pss <= 1.5 * jl.pss)}`,
    ],
  ];
  const markdown = [
    '# Kernel benchmark: Kiln gateway (runsc) vs Jupyter Server 1.23',
    '',
    `Run ${results.date} on ${results.host} with \`npx tsx bench/kernels/run.ts\`; the same plain client for both (fetch + a \`ws\` websocket, legacy JSON framing: bench/kernels/plain-client.ts).`,
    `Round trips n=${ROUND_TRIPS}, kernel starts n=${STARTS} per configuration, interrupts n=${INTERRUPTS}. Ratio = Kiln / Jupyter.`,
    `Machine load (1 / 5 / 15 min load average, ${availableParallelism()} cores; other work shared the machine): before ${load(loadBefore)}, after ${load(loadAfter)}; 1-min load during the run, every 30 s (min / median / max): ${loadRange}.`,
    '',
    '| Measure | Jupyter Server 1.23 (no sandbox) | Kiln gateway (gVisor sandbox) | Ratio |',
    '|---|---|---|---|',
    ...rows.map((row) => `| ${row.join(' | ')} |`),
    '',
    `## Targets of issue 10, this run (1-min load ${loadRange} min / median / max on ${availableParallelism()} cores)`,
    '',
    '| Target | This run | |',
    '|---|---|---|',
    ...targets.map((row) => `| ${row.join(' | ')} |`),
    '',
  ].join('\n');
  await mkdir(join(root, 'bench', 'results'), { recursive: true });
  await writeFile(join(root, 'bench', 'results', 'kernels.json'), `${JSON.stringify(results, null, 2)}\n`);
  await writeFile(join(root, 'bench', 'results', 'kernels.md'), markdown);
  console.log(markdown);
}

runBenchmark(main);
