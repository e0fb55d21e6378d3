import type { Db } from '@kiln/db';
import { divRound } from '../price-book.ts';
import { usageParts } from './parts.ts';
import type { Period } from './period.ts';

export interface InvoiceLine {
  /** "gpu:H100", "cpu", "memory", "base". */
  key: string;
  description: string;
  /** GPU-seconds, core-seconds or GiB-seconds; 1 for the base fee. */
  quantity: number;
  unit: string;
  amountCents: number;
}

export interface Invoice {
  period: Period;
  lines: InvoiceLine[];
  usageCents: number;
  baseCents: number;
  /** Credits applied, never more than the usage (credits do not pay the base fee). */
  creditsAppliedCents: number;
  totalCents: number;
}

interface GroupRow {
  gpuType: string;
  gpuUnits: string;
  gpu: string;
  cpuUnits: string;
  cpu: string;
  memUnits: string;
  memory: string;
}

interface LineRow {
  key: string;
  units: bigint;
  femto: bigint;
}

/**
 * The invoice of a period from the ledger: one line per GPU type, CPU and memory, each rounded to the
 * cent once from exact femto-dollar sums, then credits and the base fee. Every cost Kiln shows for the
 * period is computed by these same sums.
 */
export async function invoiceFor(
  db: Db,
  workspaceId: string,
  period: Period,
  options: { baseCents: number; creditMicros: bigint; now?: Date },
): Promise<Invoice> {
  const window = { from: period.start, to: period.end, now: options.now };
  const parts = usageParts(workspaceId, window);
  // Units are kept as exact integers: GPU-ms, millicore-ms (at least the billed minimum) and MiB-ms.
  // One pass over the period's usage, grouped by GPU type; the CPU and memory lines are the exact
  // sums of those groups (reading the usage once per line made this the slowest usage-page query).
  const groups = await db.$queryRaw<GroupRow[]>`
    SELECT p."gpuType", sum(p."gpuUnits")::text AS "gpuUnits", sum(p.gpu)::text AS gpu,
      sum(p."cpuUnits")::text AS "cpuUnits", sum(p.cpu)::text AS cpu,
      sum(p."memUnits")::text AS "memUnits", sum(p.memory)::text AS memory
    FROM ${parts} p GROUP BY p."gpuType"`;
  const total = (pick: (row: GroupRow) => string) => groups.reduce((sum, row) => sum + BigInt(pick(row)), 0n);
  const rows: LineRow[] = [
    ...groups
      .filter((row) => row.gpuType !== '' && BigInt(row.gpuUnits) > 0n)
      .map((row) => ({ key: `gpu:${row.gpuType}`, units: BigInt(row.gpuUnits), femto: BigInt(row.gpu) })),
    { key: 'cpu', units: total((row) => row.cpuUnits), femto: total((row) => row.cpu) },
    { key: 'memory', units: total((row) => row.memUnits), femto: total((row) => row.memory) },
  ];
  const lines: InvoiceLine[] = [];
  for (const row of rows.sort((a, b) => order(a.key) - order(b.key) || a.key.localeCompare(b.key))) {
    const amountCents = Number(divRound(row.femto, 10_000_000_000_000n));
    const { units } = row;
    if (row.key.startsWith('gpu:')) {
      const type = row.key.slice(4);
      lines.push({
        key: row.key,
        description: `${type} GPU`,
        quantity: seconds(units, 1000n),
        unit: 'GPU-second',
        amountCents,
      });
    } else if (row.key === 'cpu') {
      lines.push({
        key: 'cpu',
        description: 'CPU',
        quantity: seconds(units, 1_000_000n),
        unit: 'core-second',
        amountCents,
      });
    } else {
      lines.push({
        key: 'memory',
        description: 'Memory',
        quantity: seconds(units, 1_024_000n),
        unit: 'GiB-second',
        amountCents,
      });
    }
  }
  const usageCents = lines.reduce((sum, line) => sum + line.amountCents, 0);
  const creditCents = Number(divRound(options.creditMicros, 10_000n));
  const creditsAppliedCents = Math.min(usageCents, Math.max(0, creditCents));
  if (options.baseCents > 0)
    lines.unshift({
      key: 'base',
      description: 'Plan base fee',
      quantity: 1,
      unit: 'month',
      amountCents: options.baseCents,
    });
  return {
    period,
    lines,
    usageCents,
    baseCents: options.baseCents,
    creditsAppliedCents,
    totalCents: options.baseCents + usageCents - creditsAppliedCents,
  };
}

function order(key: string): number {
  return key.startsWith('gpu:') ? 0 : key === 'cpu' ? 1 : 2;
}

/** Whole-unit seconds from unit-milliseconds scaled by `divisor`, to three decimals for display. */
function seconds(units: bigint, divisor: bigint): number {
  return Number(divRound(units * 1000n, divisor)) / 1000;
}
