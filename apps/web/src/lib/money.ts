/**
 * "$12.34" from micro-dollars; with `precise`, amounts under a cent keep two significant digits down
 * to the micro-dollar ("$0.0042", "$0.000018"), so a one-second cell does not read as free.
 */
export function formatMicros(micros: number, options: { precise?: boolean } = {}): string {
  const dollars = micros / 1e6;
  const abs = Math.abs(dollars);
  const digits =
    options.precise && abs > 0 && abs < 0.01 ? Math.min(6, Math.max(4, 1 - Math.floor(Math.log10(abs)))) : 2;
  return `${dollars < 0 ? '-' : ''}$${abs.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })}`;
}

/** "$12.34" from cents, as invoices show them. */
export function formatCents(cents: number): string {
  return `${cents < 0 ? '-' : ''}$${(Math.abs(cents) / 100).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

/** "1 h 02 min" / "42 s" for durations in seconds. */
export function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${String(Math.round(seconds % 60)).padStart(2, '0')} s`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}
