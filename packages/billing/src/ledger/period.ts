/** A billing period: [start, end). Kiln's periods are calendar months in UTC. */
export interface Period {
  start: Date;
  end: Date;
  /** "2026-12": names credit grants and alerts of this period. */
  key: string;
}

/** The calendar month (UTC) containing `at`. */
export function periodOf(at: Date): Period {
  const start = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1));
  const end = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + 1, 1));
  const key = `${start.getUTCFullYear()}-${String(start.getUTCMonth() + 1).padStart(2, '0')}`;
  return { start, end, key };
}

/** Parses "2026-12" into its period; throws on anything else. */
export function periodFromKey(key: string): Period {
  const match = /^(\d{4})-(\d{2})$/.exec(key);
  const month = Number(match?.[2]);
  if (!match || month < 1 || month > 12) throw new RangeError(`Not a billing period: ${key}`);
  return periodOf(new Date(Date.UTC(Number(match[1]), month - 1, 1)));
}
