/** "$12.34" from micro-dollars, rounded to the cent half away from zero; "-$1.20" when negative. */
export function formatMicros(micros: bigint): string {
  const negative = micros < 0n;
  const abs = negative ? -micros : micros;
  const cents = (abs + 5_000n) / 10_000n;
  const dollars = cents / 100n;
  const rest = String(cents % 100n).padStart(2, '0');
  const grouped = dollars.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${negative ? '-' : ''}$${grouped}.${rest}`;
}
