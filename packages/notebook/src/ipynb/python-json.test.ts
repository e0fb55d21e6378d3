import { describe, expect, it } from 'vitest';
import { compareCodePoints, pythonJsonDumps, pythonNumber } from './python-json.ts';
import { pySplitLinesKeepEnds } from './split-lines.ts';

describe('pythonJsonDumps (what nbformat writes)', () => {
  it('writes floats like CPython repr', () => {
    // Expected strings come from CPython 3.11's json.dumps.
    const cases: [number, string][] = [
      [0.1, '0.1'],
      [1e-5, '1e-05'],
      [123.456, '123.456'],
      [-0.0001, '-0.0001'],
      [1e-4, '0.0001'],
      [5e-324, '5e-324'],
      [0.30000000000000004, '0.30000000000000004'],
      [2.5e-7, '2.5e-07'],
      [1234567890123456.8, '1234567890123456.8'],
      [-1.5, '-1.5'],
      [1e15 + 0.5, '1000000000000000.5'],
    ];
    for (const [value, expected] of cases) expect(pythonNumber(value)).toBe(expected);
    expect(pythonNumber(42)).toBe('42');
    expect(pythonNumber(2 ** 60)).toBe('1152921504606846976');
  });

  it('sorts keys by code point, indents by one space and escapes like ensure_ascii=False', () => {
    const value = {
      b: '\u0000\u0001\u001f\u007f"\\/\t\u2028é😀',
      a: [],
      c: {},
      '😀': 1,
      '\uffff': 2,
      n: null,
      t: true,
      f: [1, { x: false }],
    };
    // Verbatim output of json.dumps(value, sort_keys=True, indent=1, ensure_ascii=False, separators=(',', ': ')).
    const expected = [
      '{',
      ' "a": [],',
      ' "b": "\\u0000\\u0001\\u001f\u007f\\"\\\\/\\t\u2028é😀",',
      ' "c": {},',
      ' "f": [',
      '  1,',
      '  {',
      '   "x": false',
      '  }',
      ' ],',
      ' "n": null,',
      ' "t": true,',
      ' "\uffff": 2,',
      ' "😀": 1',
      '}',
    ].join('\n');
    expect(pythonJsonDumps(value)).toBe(expected);
    expect(compareCodePoints('\uffff', '😀')).toBeLessThan(0);
  });
});

describe('pySplitLinesKeepEnds (str.splitlines(True))', () => {
  it('splits on every boundary Python knows and keeps the ends', () => {
    expect(pySplitLinesKeepEnds('a\r\nb\rc\u000bd\fe\u001cf\u2028g\u0085h')).toEqual([
      'a\r\n',
      'b\r',
      'c\u000b',
      'd\f',
      'e\u001c',
      'f\u2028',
      'g\u0085',
      'h',
    ]);
    expect(pySplitLinesKeepEnds('')).toEqual([]);
    expect(pySplitLinesKeepEnds('abc')).toEqual(['abc']);
    expect(pySplitLinesKeepEnds('\n\nx')).toEqual(['\n', '\n', 'x']);
  });
});
