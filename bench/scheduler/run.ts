/**
 * Scheduler benchmark: Kiln's best-fit placement against plain first fit on 10,000 mixed requests and
 * 1,000 declared 8-GPU nodes (in memory, one thread), then the Postgres path: one placement's latency
 * with one and with two processes placing onto three registered nodes.
 * Run: `npx tsx bench/scheduler/run.ts` (needs Postgres on 127.0.0.1:5432).
 * Writes bench/results/scheduler.json and bench/results/scheduler.md.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchPolicy, POLICIES, type PolicyResult } from './policy-bench.ts';
import { benchPostgres } from './postgres-bench.ts';
import { makeNodes, makeRequests, NODE_MIX } from './workload.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const RUNS = Number(process.env.BENCH_POLICY_RUNS ?? 7);
const PLACEMENTS = Number(process.env.BENCH_PG_PLACEMENTS ?? 200);
const SEED = 11;
/** Packing is compared on several workloads: which GPU pool runs out first varies with the seed. */
const PACKING_SEEDS = [11, 12, 13, 14, 15];

const loadBefore = loadavg();
const nodes = makeNodes(SEED);
const requests = makeRequests(SEED);
const bestFit = benchPolicy(POLICIES.bestFit, nodes, requests, RUNS);
const firstFit = benchPolicy(POLICIES.firstFit, nodes, requests, RUNS);
const packing = PACKING_SEEDS.map((seed) => {
  const seedNodes = makeNodes(seed);
  const seedRequests = makeRequests(seed);
  const pick = (result: PolicyResult) => ({
    gpuShareAtFirstQueue: result.gpuShareAtFirstQueue,
    firstQueued: result.firstQueued.wanted,
    queued: result.queued,
    queuedByFragmentation: result.queuedByFragmentation,
    queuedEightGpu: result.queuedEightGpu,
    meanGpuShareWhenFull: result.meanGpuShareWhenFull,
  });
  return {
    seed,
    firstFit: pick(seed === SEED ? firstFit : benchPolicy(POLICIES.firstFit, seedNodes, seedRequests, 1)),
    bestFit: pick(seed === SEED ? bestFit : benchPolicy(POLICIES.bestFit, seedNodes, seedRequests, 1)),
  };
});
const mean = (values: number[]) => values.reduce((sum, n) => sum + n, 0) / values.length;
const postgres = await benchPostgres(PLACEMENTS);
const loadAfter = loadavg();

const gpuRequests = requests.filter((request) => request.gpu.length > 0);
const results = {
  date: new Date().toISOString(),
  machine: `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`,
  load: {
    before: loadBefore.map((n) => Number(n.toFixed(2))),
    after: loadAfter.map((n) => Number(n.toFixed(2))),
  },
  workload: {
    seed: SEED,
    nodes: nodes.length,
    gpusPerNode: 8,
    nodeMix: Object.fromEntries(NODE_MIX),
    requests: requests.length,
    cpuOnly: requests.length - gpuRequests.length,
    byCount: Object.fromEntries(
      [1, 2, 4, 8].map((count) => [count, gpuRequests.filter((r) => r.gpu[0]?.count === count).length]),
    ),
    withFallbackList: gpuRequests.filter((request) => request.gpu.length > 1).length,
    workspaces: new Set(requests.map((request) => request.workspaceId)).size,
    gpusAsked: gpuRequests.reduce((sum, request) => sum + (request.gpu[0]?.count ?? 0), 0),
  },
  policy: { bestFit, firstFit, runs: RUNS, packing },
  postgres: { placementsPerProcess: PLACEMENTS, ...postgres },
};

const pct = (share: number) => `${(share * 100).toFixed(1)}%`;
const rate = (n: number) => `${Math.round(n).toLocaleString('en-US')}/s`;
const ms = (n: number) => `${n.toFixed(1)} ms`;
const md = `# Scheduler benchmark: best-fit placement vs first fit, and the Postgres path

Run ${results.date} on ${results.machine} with \`npx tsx bench/scheduler/run.ts\`.
Machine load (1 / 5 / 15 min load average; other work shared the machine): before ${results.load.before.join(' / ')}, after ${results.load.after.join(' / ')}.

Workload (seed ${SEED}): ${results.workload.requests.toLocaleString('en-US')} requests from ${results.workload.workspaces} workspaces onto ${results.workload.nodes.toLocaleString('en-US')} declared nodes of 8 GPUs (${NODE_MIX.map(([type, count]) => `${count} ${type}`).join(', ')}; 128 cores and 1 TiB each).
${results.workload.cpuOnly.toLocaleString('en-US')} CPU-only; GPU requests by count ${Object.entries(
  results.workload.byCount,
)
  .map(([count, n]) => `${count}: ${n}`)
  .join(
    ', ',
  )}; ${results.workload.withFallbackList} with a fallback list. They ask for ${results.workload.gpusAsked.toLocaleString('en-US')} GPUs, more than the 8,000 there are, so the cluster fills.

## In-memory policy (one thread)

One request arrives per time step and, once placed, runs for a random lifetime (exponential, mean 6,000
steps), so the cluster fills after about 3,500 steps while containers keep ending and leaving holes. A
request that finds no room would queue; here it is counted and dropped, so both policies see the same
arrivals. Speed is per second of CPU time the process used (median of ${RUNS} runs on seed ${SEED}), since
other work shared the machine; wall-clock rates are in the JSON.

| Measure (seed ${SEED}) | First fit (baseline) | Kiln best fit |
|---|---|---|
| Placements per CPU-second (choice, bookkeeping, ends) | ${rate(firstFit.placementsPerCpuSecond)} | ${rate(bestFit.placementsPerCpuSecond)} |
| Placements per wall-clock second | ${rate(firstFit.placementsPerSecond)} | ${rate(bestFit.placementsPerSecond)} |
| Share of GPUs in use when the first request has to queue | ${pct(firstFit.gpuShareAtFirstQueue)} (step ${firstFit.firstQueued.index}, ${firstFit.firstQueued.wanted}) | ${pct(bestFit.gpuShareAtFirstQueue)} (step ${bestFit.firstQueued.index}, ${bestFit.firstQueued.wanted}) |
| Mean share of GPUs in use over the second half (cluster full) | ${pct(firstFit.meanGpuShareWhenFull)} | ${pct(bestFit.meanGpuShareWhenFull)} |
| Requests that found no room / of them 8-GPU | ${firstFit.queued} / ${firstFit.queuedEightGpu} | ${bestFit.queued} / ${bestFit.queuedEightGpu} |
| ... of them with enough free GPUs of their type, spread over nodes (fragmentation) | ${firstFit.queuedByFragmentation} | ${bestFit.queuedByFragmentation} |

Packing over ${PACKING_SEEDS.length} workloads (seeds ${PACKING_SEEDS.join(', ')}):

| Seed | First queue at (first fit / best fit) | Mean share when full | Queued by fragmentation |
|---|---|---|---|
${packing.map((row) => `| ${row.seed} | ${pct(row.firstFit.gpuShareAtFirstQueue)} (${row.firstFit.firstQueued}) / ${pct(row.bestFit.gpuShareAtFirstQueue)} (${row.bestFit.firstQueued}) | ${pct(row.firstFit.meanGpuShareWhenFull)} / ${pct(row.bestFit.meanGpuShareWhenFull)} | ${row.firstFit.queuedByFragmentation} / ${row.bestFit.queuedByFragmentation} |`).join('\n')}
| mean | ${pct(mean(packing.map((row) => row.firstFit.gpuShareAtFirstQueue)))} / ${pct(mean(packing.map((row) => row.bestFit.gpuShareAtFirstQueue)))} | ${pct(mean(packing.map((row) => row.firstFit.meanGpuShareWhenFull)))} / ${pct(mean(packing.map((row) => row.bestFit.meanGpuShareWhenFull)))} | ${mean(packing.map((row) => row.firstFit.queuedByFragmentation)).toFixed(0)} / ${mean(packing.map((row) => row.bestFit.queuedByFragmentation)).toFixed(0)} |

The first request to queue is usually one whose GPU type's pool has run out on both policies (the
smaller pools, H200 and the 100-node types, run out first), so that figure moves little; best fit's
gain shows once the cluster is full: fewer requests are turned away while enough devices of their type
are free but spread over nodes, and more of the GPUs are in use.

## Postgres path (real Postgres on 127.0.0.1:5432, a database of its own, three registered nodes)

One placement = \`scheduler.request()\`: the workspace's quota under its row lock, the choice, the chosen node locked and re-read, the container, its GPUs and its event written, commit, and the view read back. Each process is its own OS process with its own connections, placing ${PLACEMENTS} containers one after another (each stopped right after, untimed).

| Measure | One process alone | Two processes at once |
|---|---|---|
| p50 | ${ms(postgres.alone.p50)} | ${ms(postgres.concurrent.p50)} |
| p99 | ${ms(postgres.alone.p99)} | ${ms(postgres.concurrent.p99)} |
| max | ${ms(postgres.alone.max)} | ${ms(postgres.concurrent.max)} |
| placements | ${postgres.alone.n} | ${postgres.concurrent.n} |

Failures: ${postgres.failures.length === 0 ? 'none' : postgres.failures.slice(0, 5).join('; ')}.
`;

await mkdir(join(root, 'bench', 'results'), { recursive: true });
await writeFile(join(root, 'bench', 'results', 'scheduler.json'), `${JSON.stringify(results, null, 2)}\n`);
await writeFile(join(root, 'bench', 'results', 'scheduler.md'), md);
process.stdout.write(md);
