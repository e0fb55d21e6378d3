import { describe, expect, it } from 'vitest';
import { toCodePoints, toUtf16 } from './code-points.ts';

describe('cursor positions between Monaco (UTF-16) and Jupyter (code points)', () => {
  it('counts an accented letter once in both and an emoji as one code point but two units', () => {
    const code = 'café = 1\n😀x = caf';
    expect(toCodePoints(code, code.length)).toBe(code.length - 1);
    expect(toUtf16(code, code.length - 1)).toBe(code.length);
    expect(toCodePoints(code, 'café'.length)).toBe(4);
  });

  it('round-trips every boundary and clamps positions outside the text', () => {
    const code = 'a😀b𝔘c';
    for (const offset of [0, 1, 3, 4, 6, 7]) expect(toUtf16(code, toCodePoints(code, offset))).toBe(offset);
    expect(toCodePoints(code, 99)).toBe(5);
    expect(toUtf16(code, 99)).toBe(code.length);
    expect(toCodePoints(code, -3)).toBe(0);
  });
});
