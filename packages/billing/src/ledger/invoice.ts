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

interface LineRow {
  key: string;
  units: string;
  femto: string;
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
  const rows = await db.$queryRaw<LineRow[]>`
    SELECT 'gpu:' || p."gpuType" AS key, sum(p."gpuUnits")::text AS units, sum(p.gpu)::text AS femto
    FROM ${parts} p WHERE p."gpuType" <> '' GROUP BY p."gpuType" HAVING sum(p."gpuUnits") > 0
    UNION ALL
    SELECT 'cpu', COALESCE(sum(p."cpuUnits"), 0)::text, COALESCE(sum(p.cpu), 0)::text FROM ${parts} p
    UNION ALL
    SELECT 'memory', COALESCE(sum(p."memUnits"), 0)::text, COALESCE(sum(p.memory), 0)::text FROM ${parts} p`;
  const lines: InvoiceLine[] = [];
  for (const row of rows.sort((a, b) => order(a.key) - order(b.key) || a.key.localeCompare(b.key))) {
    const amountCents = Number(divRound(BigInt(row.femto), 10_000_000_000_000n));
    const units = BigInt(row.units);
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
