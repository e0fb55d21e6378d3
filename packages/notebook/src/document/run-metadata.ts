import { getCellMetadata, setCellMetadata } from './metadata.ts';
import type { YCell } from './notebook-doc.ts';
import type { JsonObject } from './types.ts';

/**
 * The cell metadata key holding its last run's timing, as JupyterLab's `recordTiming` writes it
 * (`shell.execute_reply.started`, `shell.execute_reply`), plus Kiln's duration and cost, so the
 * figures travel with the document to every collaborator and into the downloaded .ipynb.
 */
export const RUN_METADATA_KEY = 'execution';

const STARTED = 'shell.execute_reply.started';
const ENDED = 'shell.execute_reply';
const DURATION = 'kiln.duration_ms';
const COST = 'kiln.cost_micros';
const RATE = 'kiln.rate_per_hour_micros';

/** A cell's last run as its metadata records it; times are milliseconds since the epoch. */
export interface CellRunInfo {
  startedAt: number;
  endedAt: number | null;
  durationMs: number | null;
  /** Micro-dollars the kernel's machine cost during the run; null until priced (or when it cannot be). */
  costMicros: number | null;
  ratePerHourMicros: number | null;
}

function runMetadata(cell: YCell): JsonObject | null {
  const value = getCellMetadata(cell)[RUN_METADATA_KEY];
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as JsonObject) : null;
}

/** Records that a run began, replacing what an earlier run left. */
export function markRunStarted(cell: YCell, startedAt: number): void {
  setCellMetadata(cell, RUN_METADATA_KEY, { [STARTED]: new Date(startedAt).toISOString() });
}

/** Records the end of the run that began at `startedAt` (a later run's record is left alone). */
export function markRunEnded(cell: YCell, startedAt: number, endedAt: number): void {
  const started = new Date(startedAt).toISOString();
  const current = runMetadata(cell);
  if (current && current[STARTED] !== started) return;
  setCellMetadata(cell, RUN_METADATA_KEY, {
    ...(current ?? {}),
    [STARTED]: started,
    [ENDED]: new Date(endedAt).toISOString(),
    [DURATION]: Math.max(0, endedAt - startedAt),
  });
}

/** Adds the price of the run that began at `startedAt`; false when the cell has run again since. */
export function markRunCost(
  cell: YCell,
  startedAt: number,
  cost: { costMicros: number; ratePerHourMicros: number },
): boolean {
  const current = runMetadata(cell);
  if (!current || current[STARTED] !== new Date(startedAt).toISOString()) return false;
  setCellMetadata(cell, RUN_METADATA_KEY, {
    ...current,
    [COST]: cost.costMicros,
    [RATE]: cost.ratePerHourMicros,
  });
  return true;
}

const num = (value: unknown): number | null =>
  typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : null;

/** The last run recorded in a cell's metadata (as JSON), or null when none is, or it is malformed. */
export function readRunInfo(metadata: JsonObject): CellRunInfo | null {
  const run = metadata[RUN_METADATA_KEY];
  if (!run || typeof run !== 'object' || Array.isArray(run)) return null;
  const startedAt = Date.parse(String(run[STARTED] ?? ''));
  if (Number.isNaN(startedAt)) return null;
  const endedAt = Date.parse(String(run[ENDED] ?? ''));
  return {
    startedAt,
    endedAt: Number.isNaN(endedAt) ? null : endedAt,
    durationMs: num(run[DURATION]),
    costMicros: num(run[COST]),
    ratePerHourMicros: num(run[RATE]),
  };
}
