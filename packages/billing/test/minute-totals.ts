import { gpuEventName } from '../src/stripe/catalog.ts';

// The Stripe rollup tests' check: every millisecond of every slice, split into minutes, is in the
// outbox exactly once. Both sides are summed per `<workspace> <event> <minute>` so they compare whole.
const MINUTE = 60_000;

/** A closed ledger slice as the rollup bills it (GPUs are H100s in these tests). */
export interface BilledSlice {
  workspaceId: string;
  startAt: Date;
  endAt: Date;
  gpuCount: number;
  cpuMillicores: number;
  memoryMiB: number;
}

export const minuteKey = (workspaceId: string, event: string, minute: number) =>
  `${workspaceId} ${event} ${minute}`;

/**
 * What the slices should bill: each meter's value per workspace, event and minute (nothing for zero).
 * The tests use whole cores and GiB, so every value is a whole number with no rounding to allow for.
 */
export function expectedMinuteTotals(slices: BilledSlice[]): Map<string, bigint> {
  const expected = new Map<string, bigint>();
  const add = (k: string, v: bigint) => v > 0n && expected.set(k, (expected.get(k) ?? 0n) + v);
  for (const slice of slices) {
    const from = slice.startAt.getTime();
    const to = slice.endAt.getTime();
    for (let minute = Math.floor(from / MINUTE) * MINUTE; minute < to; minute += MINUTE) {
      const ms = BigInt(Math.min(to, minute + MINUTE) - Math.max(from, minute));
      const key = (event: string) => minuteKey(slice.workspaceId, event, minute);
      if (slice.gpuCount) add(key(gpuEventName('H100')), BigInt(slice.gpuCount) * ms);
      add(key('kiln_cpu_core_ms'), (BigInt(slice.cpuMillicores) * ms) / 1000n);
      add(key('kiln_memory_gib_ms'), (BigInt(slice.memoryMiB) * ms) / 1024n);
    }
  }
  return expected;
}

/** What the outbox holds: its rows' values summed per workspace, event and minute. */
export function outboxMinuteTotals(
  rows: { workspaceId: string; eventName: string; windowStart: Date; value: bigint }[],
): Map<string, bigint> {
  const sent = new Map<string, bigint>();
  for (const row of rows) {
    const k = minuteKey(row.workspaceId, row.eventName, row.windowStart.getTime());
    sent.set(k, (sent.get(k) ?? 0n) + row.value);
  }
  return sent;
}
