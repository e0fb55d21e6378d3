/**
 * Ledger ingest, old against new in one run: the meter of a git ref (`BENCH_AB_BASE`, default the
 * commit before the page-batched meter) and the meter of this checkout ingest the same container state
 * changes into the same Postgres, alternating ABBA so load drifts hit both alike. Each round ingests
 * `BENCH_AB_CONTAINERS` containers (two events each, one slice) into an emptied ledger, after a
 * warm-up of both. Reported per side: wall-clock slices/s, and CPU-seconds of this process and of the
 * database's Postgres backends (on a shared machine the wall clock is mostly the share of a core a run
 * got; CPU-seconds are what the ingest costs). Ratios are new / old of the per-round sums.
 * Run: `npx tsx bench/billing/ingest-ab.ts` (needs Postgres on 127.0.0.1:5432 and git).
 * Writes bench/results/billing-ingest-ab.json and .md (billing-ingest-ab-page<n>.* with BENCH_AB_PAGE_SIZE).
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createMeter, DEFAULT_METER_OPTIONS } from '@kiln/billing';
import { createTestDatabase } from '@kiln/db/testing';
import { containerEvents, measureCost, meterOver } from './ledger.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BASE = process.env.BENCH_AB_BASE ?? 'cd415fd';
const CONTAINERS = Number(process.env.BENCH_AB_CONTAINERS ?? 20_000);
const ROUNDS = Number(process.env.BENCH_AB_ROUNDS ?? 6);
// Unset: each side pages as it ships (its DEFAULT_METER_OPTIONS); set: both use this page size.
const PAGE_SIZE = process.env.BENCH_AB_PAGE_SIZE ? Number(process.env.BENCH_AB_PAGE_SIZE) : null;

// The old meter: the base ref's packages/billing/src, extracted under node_modules (ignored, and its
// imports of @kiln/db resolve to this checkout's).
const baseCommit = execFileSync('git', ['rev-parse', '--short', BASE], { cwd: root }).toString().trim();
const oldDir = join(root, 'node_modules', '.cache', 'billing-ingest-ab', baseCommit);
await rm(oldDir, { recursive: true, force: true });
await mkdir(oldDir, { recursive: true });
execFileSync('sh', ['-c', `git archive ${baseCommit} packages/billing/src | tar -x -C '${oldDir}'`], {
  cwd: root,
});
const oldMeter: { createMeter: typeof createMeter; DEFAULT_METER_OPTIONS: typeof DEFAULT_METER_OPTIONS } =
  await import(pathToFileURL(join(oldDir, 'packages', 'billing', 'src', 'meter', 'meter.ts')).href);
const sides = { old: oldMeter.createMeter, new: createMeter };
type Side = keyof typeof sides;
const pageSizes: Record<Side, number> = {
  old: PAGE_SIZE ?? oldMeter.DEFAULT_METER_OPTIONS.pageSize,
  new: PAGE_SIZE ?? DEFAULT_METER_OPTIONS.pageSize,
};

const loadBefore = loadavg();
const database = await createTestDatabase({ max: 4 });
const { db } = database;

interface Run {
  side: Side;
  slices: number;
  wallS: number;
  nodeCpuS: number;
  pgCpuS: number;
}

async function ingest(side: Side, containers: number): Promise<Run> {
  await db.$executeRaw`TRUNCATE "UsageSlice", "UsageDaily", "BillingCursor"`;
  const ws = randomUUID();
  const events = containerEvents(ws, Date.UTC(2026, 10, 1), containers);
  const meter = meterOver(sides[side], { db, cursorName: `ab-${side}`, pageSize: pageSizes[side] }, events);
  const { wallS, nodeCpuS, pgCpuS } = await measureCost(db, () => meter.sync());
  const slices = await db.usageSlice.count({ where: { workspaceId: ws, endAt: { not: null } } });
  if (slices !== containers) throw new Error(`${side}: ${slices} closed slices for ${containers} containers`);
  return { side, slices, wallS, nodeCpuS, pgCpuS };
}

// Warm-up: modules compiled, Prisma's query paths and the connections ready for both sides.
for (const side of ['old', 'new', 'old', 'new'] as Side[]) await ingest(side, Math.min(CONTAINERS, 5000));
const runs: Run[] = [];
for (let round = 0; round < ROUNDS; round++) {
  const order: Side[] = round % 2 === 0 ? ['old', 'new'] : ['new', 'old'];
  for (const side of order) {
    const run = await ingest(side, CONTAINERS);
    runs.push(run);
    console.log(
      `round ${round + 1} ${side}: ${Math.round(run.slices / run.wallS)} slices/s wall, ` +
        `${Math.round(run.slices / (run.nodeCpuS + run.pgCpuS))} per CPU-s (node ${run.nodeCpuS.toFixed(2)} s, pg ${run.pgCpuS.toFixed(2)} s)`,
    );
  }
}
await database.drop();
await rm(oldDir, { recursive: true, force: true });

const total = (side: Side) => {
  const mine = runs.filter((run) => run.side === side);
  const sum = (f: (run: Run) => number) => mine.reduce((s, run) => s + f(run), 0);
  const slices = sum((run) => run.slices);
  const nodeCpuS = sum((run) => run.nodeCpuS);
  const pgCpuS = sum((run) => run.pgCpuS);
  return {
    slices,
    slicesPerSecondWall: Math.round(slices / sum((run) => run.wallS)),
    slicesPerCpuSecond: Math.round(slices / (nodeCpuS + pgCpuS)),
    cpuSecondsPer20kSlices: {
      node: +((nodeCpuS * 20_000) / slices).toFixed(3),
      postgres: +((pgCpuS * 20_000) / slices).toFixed(3),
    },
  };
};
const old = total('old');
const neu = total('new');
const result = {
  date: new Date().toISOString(),
  machine: {
    cpus: cpus().length,
    loadBefore: loadBefore.map((l) => l.toFixed(2)),
    loadAfter: loadavg().map((l) => l.toFixed(2)),
  },
  base: baseCommit,
  containersPerRound: CONTAINERS,
  rounds: ROUNDS,
  pageSizes,
  old,
  new: neu,
  ratios: {
    wallClock: +(neu.slicesPerSecondWall / old.slicesPerSecondWall).toFixed(3),
    perCpuSecond: +(neu.slicesPerCpuSecond / old.slicesPerCpuSecond).toFixed(3),
    nodeCpu: +(neu.cpuSecondsPer20kSlices.node / old.cpuSecondsPer20kSlices.node).toFixed(3),
    postgresCpu: +(neu.cpuSecondsPer20kSlices.postgres / old.cpuSecondsPer20kSlices.postgres).toFixed(3),
  },
  runs: runs.map((run) => ({
    ...run,
    wallS: +run.wallS.toFixed(3),
    nodeCpuS: +run.nodeCpuS.toFixed(3),
    pgCpuS: +run.pgCpuS.toFixed(3),
  })),
};
const line = (name: string, t: typeof old) =>
  `| ${name} | ${t.slicesPerSecondWall.toLocaleString('en-US')} | ${t.slicesPerCpuSecond.toLocaleString('en-US')} | ${t.cpuSecondsPer20kSlices.node} | ${t.cpuSecondsPer20kSlices.postgres} |`;
const md = [
  '# Billing ingest: old meter against new, paired',
  '',
  `${result.date}, ${result.machine.cpus} cores, load ${result.machine.loadBefore.join(' ')} before, ${result.machine.loadAfter.join(' ')} after.`,
  `Old: the meter at ${baseCommit}; new: this checkout. ${ROUNDS} rounds (ABBA order) of ${CONTAINERS.toLocaleString('en-US')} slices from ${(CONTAINERS * 2).toLocaleString('en-US')} state changes each, page size ${PAGE_SIZE ? `${PAGE_SIZE} for both` : `as each ships (old ${pageSizes.old}, new ${pageSizes.new})`}, after a warm-up of both.`,
  '',
  '| meter | slices/s (wall) | slices per CPU-second | Node CPU-s per 20k | Postgres CPU-s per 20k |',
  '|---|---|---|---|---|',
  line('old', old),
  line('new', neu),
  '',
  `New / old: wall clock ${result.ratios.wallClock}, per CPU-second ${result.ratios.perCpuSecond}, Node CPU ${result.ratios.nodeCpu}, Postgres CPU ${result.ratios.postgresCpu}.`,
  '',
].join('\n');
await mkdir(join(root, 'bench', 'results'), { recursive: true });
const file = join(root, 'bench', 'results', `billing-ingest-ab${PAGE_SIZE ? `-page${PAGE_SIZE}` : ''}`);
await writeFile(`${file}.json`, `${JSON.stringify(result, null, 2)}\n`);
await writeFile(`${file}.md`, md);
console.log(md);
