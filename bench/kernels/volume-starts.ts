/**
 * Kernel starts with a named volume against the same starts without one, on one gateway, alternating so
 * load hits both alike: from the warm pool, restored from the snapshot, and (what kernels with volumes
 * got before volumes were bound into /vol on the host) cold boots. Each kernel with the volume writes a
 * file there and reads back the previous kernel's, so a start only counts once the volume works.
 * `npx tsx bench/kernels/volume-starts.ts` (BENCH_STARTS, default 5) → bench/results/kernel-volume-starts.{md,json}.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Server, started, startKiln, stop } from './servers.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const STARTS = Number(process.env.BENCH_STARTS ?? 5);
const COLD_STARTS = Number(process.env.BENCH_COLD_STARTS ?? 2);
const volume = { id: randomUUID(), name: 'bench', target: '/vol/bench', readOnly: false, quotaMiB: 64 };

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
const load = () =>
  loadavg()
    .map((v) => v.toFixed(1))
    .join('/');

interface Sample {
  ms: number;
  startedFrom: string;
}

/** POST to the first `1+1` answered (and, with the volume, a file written and the last one read). */
async function startOnce(server: Server, withVolume: boolean, n: number): Promise<Sample> {
  const t0 = performance.now();
  const model = await server.client.startKernel({
    name: 'python3',
    ...(withVolume ? { volumes: [volume] } : {}),
  });
  const channel = await server.client.connect(model.id);
  await channel.request('shell', 'kernel_info_request', {}, 120_000);
  const ms = performance.now() - t0;
  if (withVolume) {
    const code = `import os\nprev = sorted(os.listdir('/vol/bench'))\nopen('/vol/bench/k${n}.txt', 'w').write('${n}')\nprint(len(prev))`;
    const { iopub } = await channel.execute(code);
    const out = iopub.find((m) => m.header.msg_type === 'stream');
    if (String(out?.content.text).trim() !== String(n))
      throw new Error(`the volume did not hold the earlier kernels' files: ${JSON.stringify(out?.content)}`);
  }
  await channel.close();
  await server.client.shutdownKernel(model.id);
  return { ms, startedFrom: model.started_from ?? 'unknown' };
}

/** `count` starts of each kind, after one of each not counted (the first makes the volume's disk image). */
async function alternate(server: Server, count: number, pauseMs: number, written: { n: number }) {
  const plain: Sample[] = [];
  const withVolume: Sample[] = [];
  for (let i = -1; i < count; i++) {
    console.error(`${server.label}: start ${i + 1}/${count} (load ${load()})`);
    const a = await startOnce(server, false, 0);
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
    const b = await startOnce(server, true, written.n++);
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
    if (i < 0) continue;
    plain.push(a);
    withVolume.push(b);
  }
  return { plain, withVolume };
}

/** Only the starts that came from where the row says (a pool that was not refilled in time restores). */
function summary(all: Sample[], origin: string) {
  const samples = all.filter((s) => s.startedFrom === origin);
  return {
    p50: median(samples.map((s) => s.ms)),
    n: samples.length,
    ms: all.map((s) => Math.round(s.ms)),
    startedFrom: all.map((s) => s.startedFrom),
  };
}

async function main() {
  const loadBefore = load();
  const written = { n: 0 };
  // Each gateway has its own state dir, so the volume starts empty in each: count files per gateway.
  const pooled = await startKiln('kiln (warm pool 1)', { KILN_WARM_POOL_SIZE: '1' });
  await new Promise((resolve) => setTimeout(resolve, 10_000));
  const pool = await alternate(pooled, STARTS, 10_000, written);
  await stop(pooled);
  written.n = 0;
  const restoring = await startKiln('kiln (no pool)', { KILN_WARM_POOL_SIZE: '0' });
  const snapshot = await alternate(restoring, STARTS, 500, written);
  await stop(restoring);
  written.n = 0;
  const booting = await startKiln('kiln (no pool, no snapshot)', {
    KILN_WARM_POOL_SIZE: '0',
    KILN_SNAPSHOTS: 'false',
  });
  const cold = await alternate(booting, COLD_STARTS, 500, written);
  await stop(booting);

  const rows = [
    ['warm pool', 'pool', pool],
    ['snapshot restore', 'snapshot', snapshot],
    ['cold boot', 'cold', cold],
  ] as const;
  const result = {
    date: new Date().toISOString(),
    cores: availableParallelism(),
    loadBefore,
    loadAfter: load(),
    starts: Object.fromEntries(
      rows.map(([name, origin, run]) => [
        name,
        { withoutVolume: summary(run.plain, origin), withVolume: summary(run.withVolume, origin) },
      ]),
    ),
  };
  const fmt = (ms: number) => `${Math.round(ms)} ms`;
  const volumeVsCold = summary(pool.withVolume, 'pool').p50 / summary(cold.withVolume, 'cold').p50;
  const md = [
    '# Kernel starts with a named volume',
    '',
    `\`npx tsx bench/kernels/volume-starts.ts\` (${result.date.slice(0, 10)}, ${result.cores} cores, load ${loadBefore} before, ${result.loadAfter} after).`,
    'POST /api/kernels to the first `kernel_info` reply, on one gateway, alternating a kernel without volumes',
    'and one with a 64 MiB named volume at /vol/bench (each of those writes a file there and finds the earlier',
    "kernels' files, so the volume is known to work). One start of each kind first, not counted; p50 of the",
    'starts that came from where the row says (n of all):',
    '',
    '| start | without volume | with volume | ratio |',
    '|---|---:|---:|---:|',
    ...rows.map(([name, origin, run]) => {
      const a = summary(run.plain, origin);
      const b = summary(run.withVolume, origin);
      const n = (s: typeof a, all: Sample[]) => `n=${s.n} of ${all.length}`;
      return `| ${name} | ${fmt(a.p50)} (${n(a, run.plain)}) | ${fmt(b.p50)} (${n(b, run.withVolume)}) | **${(b.p50 / a.p50).toFixed(2)}x** |`;
    }),
    '',
    `Before this change every kernel with a volume booted cold; from the warm pool it now starts in`,
    `${volumeVsCold.toFixed(3)}x the time of that cold boot. Raw numbers: \`kernel-volume-starts.json\`.`,
    '',
  ].join('\n');
  await mkdir(join(root, 'bench/results'), { recursive: true });
  await writeFile(
    join(root, 'bench/results/kernel-volume-starts.json'),
    `${JSON.stringify(result, null, 2)}\n`,
  );
  await writeFile(join(root, 'bench/results/kernel-volume-starts.md'), md);
  console.log(md);
}

main()
  .catch((error) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(async () => {
    for (const server of started) await stop(server).catch(() => undefined);
  });
