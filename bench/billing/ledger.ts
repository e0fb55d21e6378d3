/**
 * What the billing benchmarks share: the container state changes they ingest, a meter fed from them,
 * and the cost of one ingest in wall time and in CPU time of this process and of Postgres.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { createMeter, MeterEvent, MeterOptions } from '@kiln/billing';
import type { Db } from '@kiln/db';

/** Each container runs once, from `t0` a second apart: two events (running, stopped) = one slice. */
export function containerEvents(ws: string, t0: number, containers: number): MeterEvent[] {
  const events: MeterEvent[] = [];
  for (let i = 0; i < containers; i++) {
    const base = {
      containerId: randomUUID(),
      workspaceId: ws,
      kind: 'kernel' as const,
      ownerId: `nb-${i % 50}`,
      requestedById: null,
      nodeId: 'n1',
      cpu: 1,
      memoryMiB: 2048,
      gpu: i % 4 === 0 ? { type: 'H100', count: 1 } : null,
      code: null,
    };
    const start = t0 + i * 1000;
    events.push({ ...base, seq: 2, from: 'starting', to: 'running', at: new Date(start) });
    events.push({
      ...base,
      seq: 3,
      from: 'running',
      to: 'stopped',
      at: new Date(start + 60_000 + (i % 997)),
    });
  }
  return events.sort((a, b) => a.at.getTime() - b.at.getTime());
}

/** A meter (`create`: this checkout's createMeter, or an older one's) that pages through `events`. */
export function meterOver(
  create: typeof createMeter,
  options: Pick<MeterOptions, 'db' | 'cursorName' | 'pageSize'>,
  events: MeterEvent[],
) {
  return create({
    ...options,
    events: async (cursor, limit) => {
      const from = cursor ? Number(cursor) : 0;
      const page = events.slice(from, from + limit);
      return { events: page, cursor: String(from + page.length) };
    },
  });
}

/** CPU clock ticks per second in /proc/<pid>/stat (USER_HZ). */
const TICKS_PER_SECOND = 100;

/** CPU ticks so far of each Postgres backend serving this database. */
async function backendTicks(db: Db): Promise<Map<number, number>> {
  const pids = await db.$queryRaw<{ pid: number }[]>`
    SELECT pid FROM pg_stat_activity WHERE datname = current_database()`;
  const ticks = new Map<number, number>();
  for (const { pid } of pids) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
    // utime and stime (fields 14, 15) in clock ticks, counted after the command name's parenthesis.
    const fields = stat?.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields) ticks.set(pid, Number(fields[11]) + Number(fields[12]));
  }
  return ticks;
}

/**
 * Runs `work` and says what it cost: wall seconds, and CPU seconds of this process and of the
 * database's Postgres backends. On a shared, loaded machine the wall clock is mostly the share of a
 * core the run got; CPU seconds are what the work itself costs.
 */
export async function measureCost(
  db: Db,
  work: () => Promise<unknown>,
): Promise<{ wallS: number; nodeCpuS: number; pgCpuS: number }> {
  const ticksBefore = await backendTicks(db);
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  await work();
  const wallS = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const ticksAfter = await backendTicks(db);
  let ticks = 0;
  for (const [pid, t] of ticksAfter) ticks += t - (ticksBefore.get(pid) ?? 0);
  return { wallS, nodeCpuS: (cpu.user + cpu.system) / 1e6, pgCpuS: ticks / TICKS_PER_SECOND };
}
