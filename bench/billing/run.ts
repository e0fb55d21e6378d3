/**
 * Billing benchmark on the real Postgres: (1) ledger ingest, container state changes applied by the
 * meter into usage slices, against the floor of inserting the same slice rows directly; (2) the usage
 * page's queries for a workspace with a million slices in one month, against a plain count of its rows.
 * Run: `npx tsx bench/billing/run.ts` (needs Postgres on 127.0.0.1:5432).
 * Writes bench/results/billing.json and bench/results/billing.md.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  costBy,
  createMeter,
  dailyCost,
  invoiceFor,
  type MeterEvent,
  periodFromKey,
  rollupUsage,
  windowCost,
} from '@kiln/billing';
import { createTestDatabase } from '@kiln/db/testing';
import { containerEvents, measureCost, meterOver } from './ledger.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CONTAINERS = Number(process.env.BENCH_BILLING_CONTAINERS ?? 20_000);
const SLICES = Number(process.env.BENCH_BILLING_SLICES ?? 1_000_000);
const RUNS = Number(process.env.BENCH_BILLING_RUNS ?? 20);

const loadBefore = loadavg();
const database = await createTestDatabase({ max: 4 });
const { db } = database;

// 1. Ingest: each container runs once (two events: running, stopped) = one slice.
const meterOf = (events: MeterEvent[], cursorName: string) =>
  meterOver(createMeter, { db, cursorName, pageSize: 2000 }, events);
// A web process meters for as long as it runs: the measured ingest starts warm (modules loaded and
// compiled, connections open) after 2,000 slices of another workspace.
await meterOf(containerEvents(randomUUID(), Date.UTC(2026, 9, 1), 2000), 'bench-warm-up').sync();
const ws = randomUUID();
const meter = meterOf(containerEvents(ws, Date.UTC(2026, 10, 1), CONTAINERS), 'usage-ledger');
// CPU time as well as wall time (this process, plus the Postgres backends of this database).
const ingestCost = await measureCost(db, () => meter.sync());
const ingestSeconds = ingestCost.wallS;
const cpuSeconds = { node: ingestCost.nodeCpuS, postgres: ingestCost.pgCpuS };
const slices = await db.usageSlice.count({ where: { workspaceId: ws } });
const meterRate = slices / ingestSeconds;

// Peer: the same rows inserted directly, 2,000 per statement (no event handling, no pricing).
const rows = await db.usageSlice.findMany({ where: { workspaceId: ws } });
const peerWs = randomUUID();
const started = performance.now();
for (let i = 0; i < rows.length; i += 2000) {
  await db.usageSlice.createMany({
    data: rows
      .slice(i, i + 2000)
      .map((row) => ({ ...row, id: `p${row.id}`, containerId: randomUUID(), workspaceId: peerWs })),
  });
}
const peerSeconds = (performance.now() - started) / 1000;
const peerRate = rows.length / peerSeconds;
await db.$executeRaw`TRUNCATE "UsageSlice"`;

// 2. Usage page queries: a million slices of one workspace in December 2026, plus other tenants.
const big = randomUUID();
const fill = async (workspaceId: string, count: number) => {
  for (let done = 0; done < count; done += 100_000) {
    const n = Math.min(100_000, count - done);
    await db.$executeRaw`
      INSERT INTO "UsageSlice" (id, "workspaceId", "containerId", "periodSeq", kind, "ownerId", "memberId", "nodeId", "gpuType",
        "gpuCount", "cpuMillicores", "memoryMiB", "priceVersionId", "gpuRateFemto", "cpuRateFemto", "memRateFemto",
        "startAt", "heartbeatAt", "endAt", "endReason", "rolledUntil", "rollupDone")
      SELECT ${workspaceId} || ':' || (${done} + g), ${workspaceId}::uuid, gen_random_uuid(), 2, 'kernel', 'nb-' || (g % 200),
        ('00000000-0000-4000-8000-' || lpad((g % 20)::text, 12, '0'))::uuid, 'n1',
        CASE WHEN g % 3 = 0 THEN 'H100' END, CASE WHEN g % 3 = 0 THEN 1 ELSE 0 END, 1000, 2048, 1,
        CASE WHEN g % 3 = 0 THEN 1097000000 ELSE 0 END, 13100000, 4440000,
        ts, ts + interval '90 seconds', ts + interval '90 seconds', 'stopped', ts + interval '90 seconds', true
      FROM (SELECT g, timestamptz '2026-12-01' + (g * (2678400.0 / ${n})) * interval '1 second' AS ts
            FROM generate_series(1, ${n}) g) x`;
  }
};
await fill(big, SLICES);
for (let i = 0; i < 5; i++) await fill(randomUUID(), SLICES / 10);
await db.$executeRaw`ANALYZE "UsageSlice"`;
await db.$executeRaw`INSERT INTO "PriceVersion" (id, "effectiveFrom", prices) VALUES (1, to_timestamp(0), '{"minimumCpuMillicores":125}') ON CONFLICT DO NOTHING`;
const period = periodFromKey('2026-12');
const window = { from: period.start, to: period.end, now: new Date(Date.UTC(2027, 0, 1)) };
const queries: Record<string, () => Promise<unknown>> = {
  'period total': () => windowCost(db, big, window),
  'daily by resource': () => dailyCost(db, big, window),
  'by notebook': () => costBy(db, big, window, 'owner'),
  'by member': () => costBy(db, big, window, 'member'),
  'invoice lines': () => invoiceFor(db, big, period, { baseCents: 0, creditMicros: 0n, now: window.now }),
  'peer: count of its rows': () => db.usageSlice.count({ where: { workspaceId: big } }),
};
const latency: Record<string, { p50: number; p95: number }> = {};
for (const [name, run] of Object.entries(queries)) {
  await run();
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    await run();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const at = (q: number) =>
    Math.round(times[Math.min(times.length - 1, Math.ceil(q * times.length) - 1)] as number);
  latency[name] = { p50: at(0.5), p95: at(0.95) };
}
// 3. The Stripe rollup on that ledger (all of it rolled up before): each run a minute apart, after 100
// new slices of the big workspace (a Stripe customer) closed within the last five minutes.
await db.workspace.create({ data: { id: big, name: 'bench', slug: `bench-${big.slice(0, 8)}` } });
await db.billingAccount.create({
  data: { workspaceId: big, stripeCustomerId: `cus_${big.slice(0, 8)}`, updatedAt: new Date() },
});
const rollupTimes: number[] = [];
const rollupStart = Date.UTC(2027, 0, 1);
for (let i = 0; i < RUNS; i++) {
  const now = new Date(rollupStart + i * 60_000);
  await db.$executeRaw`
    INSERT INTO "UsageSlice" (id, "workspaceId", "containerId", "periodSeq", kind, "ownerId", "nodeId", "gpuType",
      "gpuCount", "cpuMillicores", "memoryMiB", "priceVersionId", "gpuRateFemto", "cpuRateFemto", "memRateFemto",
      "startAt", "heartbeatAt", "endAt", "endReason")
    SELECT gen_random_uuid()::text, ${big}::uuid, gen_random_uuid(), 2, 'kernel', 'nb-1', 'n1', 'H100', 1, 1000, 2048, 1,
      1097000000, 13100000, 4440000, ${now}::timestamptz - interval '5 minutes' + g * interval '1 second',
      ${now}::timestamptz - interval '4 minutes', ${now}::timestamptz - interval '4 minutes', 'stopped'
    FROM generate_series(1, 100) g`;
  const t = performance.now();
  await rollupUsage(db, now);
  rollupTimes.push(performance.now() - t);
}
rollupTimes.sort((a, b) => a - b);
const rollupMs = {
  p50: Math.round(rollupTimes[Math.ceil(0.5 * RUNS) - 1] as number),
  p95: Math.round(rollupTimes[Math.ceil(0.95 * RUNS) - 1] as number),
};
await database.drop();

const result = {
  date: new Date().toISOString(),
  machine: {
    cpus: cpus().length,
    loadBefore: loadBefore.map((l) => l.toFixed(2)),
    loadAfter: loadavg().map((l) => l.toFixed(2)),
  },
  ingest: {
    slices,
    metersSlicesPerSecond: Math.round(meterRate),
    directInsertSlicesPerSecond: Math.round(peerRate),
    ratioToDirectInsert: +(meterRate / peerRate).toFixed(2),
    seconds: +ingestSeconds.toFixed(2),
    cpuSeconds: { node: +cpuSeconds.node.toFixed(2), postgres: +cpuSeconds.postgres.toFixed(2) },
    slicesPerCpuSecond: Math.round(slices / (cpuSeconds.node + cpuSeconds.postgres)),
    cpuSecondsPer20kSlices: {
      node: +((cpuSeconds.node * 20_000) / slices).toFixed(2),
      postgres: +((cpuSeconds.postgres * 20_000) / slices).toFixed(2),
    },
  },
  queries: { slicesInWorkspace: SLICES, otherSlices: SLICES / 2, runs: RUNS, latencyMs: latency },
  stripeRollup: { ledgerSlices: SLICES * 1.5, newSlicesPerRun: 100, runs: RUNS, latencyMs: rollupMs },
};
await mkdir(join(root, 'bench', 'results'), { recursive: true });
await writeFile(join(root, 'bench', 'results', 'billing.json'), `${JSON.stringify(result, null, 2)}\n`);
const md = [
  '# Billing benchmark',
  '',
  `${result.date}, ${result.machine.cpus} cores, load ${result.machine.loadBefore.join(' ')} before, ${result.machine.loadAfter.join(' ')} after.`,
  '',
  `## Ledger ingest (${slices.toLocaleString('en-US')} slices from ${(slices * 2).toLocaleString('en-US')} state changes)`,
  '',
  '| path | slices/s |',
  '|---|---|',
  `| meter: events → priced slices | ${result.ingest.metersSlicesPerSecond.toLocaleString('en-US')} |`,
  `| peer: the same rows inserted directly | ${result.ingest.directInsertSlicesPerSecond.toLocaleString('en-US')} |`,
  '',
  `Ratio to the direct insert: ${result.ingest.ratioToDirectInsert}.`,
  '',
  `CPU used by the ingest: ${result.ingest.cpuSeconds.node} s in Node and ${result.ingest.cpuSeconds.postgres} s in Postgres backends over ${result.ingest.seconds} s of wall time: ${result.ingest.slicesPerCpuSecond.toLocaleString('en-US')} slices per CPU-second (what one otherwise idle core would ingest, the two sides taking turns).`,
  '',
  `CPU-seconds per 20,000 slices: ${result.ingest.cpuSecondsPer20kSlices.node} in Node, ${result.ingest.cpuSecondsPer20kSlices.postgres} in Postgres (the measured ingest starts after a 2,000-slice warm-up).`,
  '',
  `## Usage page queries (${SLICES.toLocaleString('en-US')} slices in the workspace's month, ${(SLICES / 2).toLocaleString('en-US')} of other workspaces; ${RUNS} runs)`,
  '',
  '| query | p50 ms | p95 ms |',
  '|---|---|---|',
  ...Object.entries(latency).map(([name, l]) => `| ${name} | ${l.p50} | ${l.p95} |`),
  '',
  `## Stripe usage rollup (${(SLICES * 1.5).toLocaleString('en-US')} slices in the ledger, 100 new per run; ${RUNS} runs)`,
  '',
  `p50 ${rollupMs.p50} ms, p95 ${rollupMs.p95} ms per run: it reads only the slices with usage left.`,
  '',
].join('\n');
await writeFile(join(root, 'bench', 'results', 'billing.md'), md);
console.log(md);
