import { describe, expect, it } from 'vitest';
import { extractMath, mathToken } from './markdown-math.ts';

describe('extractMath', () => {
  it('lifts inline and display TeX out of markdown', () => {
    const { text, math } = extractMath('Euler: $e^{i\\pi} + 1 = 0$ and\n\n$$\\int_0^1 x_i^2 \\, dx$$');
    expect(text).toBe(`Euler: ${mathToken(0)} and\n\n${mathToken(1)}`);
    expect(math).toEqual([
      { tex: 'e^{i\\pi} + 1 = 0', display: false },
      { tex: '\\int_0^1 x_i^2 \\, dx', display: true },
    ]);
  });

  it('leaves code spans, fenced code and escaped dollars alone', () => {
    const source = 'Use `$HOME` here\n```sh\necho $PATH $x$\n```\ncosts \\$5';
    const { text, math } = extractMath(source);
    expect(math).toEqual([]);
    expect(text).toBe(source);
  });

  it('does not treat prices as math', () => {
    expect(extractMath('between $5 and $10 each').math).toEqual([]);
  });
});
