import { describe, expect, it } from 'vitest';
import { hoverMarkdown, positionAt, toSuggestions } from './kernel-assist.ts';

describe('kernel completion in the editor', () => {
  it('finds line and column of an offset as Monaco does, with non-ASCII text and CRLF breaks', () => {
    const code = 'café = "😀"\nx = caf';
    expect(positionAt(code, code.length)).toEqual({ lineNumber: 2, column: 8 });
    // The emoji is two UTF-16 units (Monaco's columns count units), so the closing quote is at column 11.
    expect(positionAt(code, code.indexOf('"', 8))).toEqual({ lineNumber: 1, column: 11 });
    expect(positionAt('a\r\nbc', 5)).toEqual({ lineNumber: 2, column: 3 });
    expect(positionAt('a\r\nbc', 2)).toEqual({ lineNumber: 1, column: 2 });
    expect(positionAt('ab', 99)).toEqual({ lineNumber: 1, column: 3 });
  });

  it("maps IPython's typed matches to kinds, signatures and one replace range, in the kernel's order", () => {
    const suggestions = toSuggestions({
      matches: ['path', 'pathsep'],
      cursorStart: 13,
      cursorEnd: 15,
      metadata: {
        _jupyter_types_experimental: [
          { text: 'path', type: 'module', signature: '', start: 13, end: 15 },
          { text: 'pathsep', type: 'instance', signature: '', start: 13, end: 15 },
          { text: 'pardir', type: 'function', signature: '(a, /)', start: 13, end: 15 },
          { text: 'path', type: 'module', start: 13, end: 15 },
        ],
      },
    });
    expect(suggestions).toEqual([
      { label: 'path', kind: 'module', detail: 'module', start: 13, end: 15, sortText: '0' },
      { label: 'pathsep', kind: 'variable', detail: 'instance', start: 13, end: 15, sortText: '1' },
      { label: 'pardir', kind: 'function', detail: '(a, /)', start: 13, end: 15, sortText: '2' },
    ]);
  });

  it('falls back to plain matches when the kernel sends no types', () => {
    const suggestions = toSuggestions({
      matches: ['%timeit', 'time'],
      cursorStart: 0,
      cursorEnd: 3,
      metadata: {},
    });
    expect(suggestions.map((s) => [s.label, s.kind, s.start, s.end])).toEqual([
      ['%timeit', 'magic', 0, 3],
      ['time', 'text', 0, 3],
    ]);
    expect(toSuggestions({ matches: [], cursorStart: 4, cursorEnd: 4, metadata: {} })).toEqual([]);
  });

  it('shows docs as Markdown when offered, else the plain text without ANSI colours', () => {
    expect(hoverMarkdown({ found: true, data: { 'text/markdown': '**len**', 'text/plain': 'x' } })).toBe(
      '**len**',
    );
    expect(
      hoverMarkdown({
        found: true,
        data: { 'text/plain': '\u001b[0;31mSignature:\u001b[0m len(obj, /)\n```trick```\n' },
      }),
    ).toBe('````text\nSignature: len(obj, /)\n```trick```\n````');
    expect(hoverMarkdown({ found: false, data: {} })).toBeNull();
    expect(hoverMarkdown({ found: true, data: { 'image/png': 'AAAA' } })).toBeNull();
  });
});
