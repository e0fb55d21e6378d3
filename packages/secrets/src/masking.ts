/** What a secret value is replaced with in outputs and logs. */
export const MASK = '********';

// Shorter values would mask ordinary text ("1", "id") all over every output.
const MIN_MASKED_LENGTH = 4;

/**
 * A function replacing every verbatim occurrence of `values` (and of each line of a multi-line
 * value) with `********`; the longest first, so a value containing another is masked whole.
 */
export function createMasker(values: Iterable<string>): (text: string) => string {
  const needles = new Set<string>();
  for (const value of values) {
    if (value.length >= MIN_MASKED_LENGTH) needles.add(value);
    for (const line of value.split(/\r?\n/)) {
      const trimmed = line.trim();
      if (trimmed.length >= MIN_MASKED_LENGTH) needles.add(trimmed);
    }
  }
  const sorted = [...needles].sort((a, b) => b.length - a.length);
  if (sorted.length === 0) return (text) => text;
  return (text) => {
    let masked = text;
    for (const needle of sorted) if (masked.includes(needle)) masked = masked.split(needle).join(MASK);
    return masked;
  };
}
