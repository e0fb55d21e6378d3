import { describe, expect, it } from 'vitest';
import { highlightPythonHtml, tokenizePython, tokenizePythonLine } from './highlight.ts';

describe('tokenizePython', () => {
  it('colours keywords, strings, comments, numbers and decorators, and keeps every character', () => {
    const source = "@cache\ndef f(x=1.5):  # doc\n    return 'a#b' + x";
    const tokens = tokenizePython(source);
    expect(tokens.map((t) => t.text).join('')).toBe(source);
    const kinds = Object.fromEntries(tokens.filter((t) => t.kind !== 'text').map((t) => [t.text, t.kind]));
    expect(kinds).toMatchObject({ '@cache': 'tag', def: 'keyword', '1.5': 'number', '# doc': 'comment' });
    expect(kinds.return).toBe('keyword');
    expect(kinds["'a#b'"]).toBe('string');
  });

  it('escapes HTML in highlighted markdown code blocks', () => {
    expect(highlightPythonHtml("x = '<b>'")).toBe('x = <span class="tok-string">\'&lt;b&gt;\'</span>');
  });
});

describe('tokenizePythonLine', () => {
  it('agrees with the whole-source tokenizer across a triple-quoted string', () => {
    const first = tokenizePythonLine('doc = """start', null);
    expect(first.openQuote).toBe('"""');
    expect(first.tokens).toEqual([
      { startIndex: 0, kind: 'text' },
      { startIndex: 6, kind: 'string' },
    ]);
    const second = tokenizePythonLine('end""" if x else 2', first.openQuote);
    expect(second.openQuote).toBeNull();
    expect(second.tokens.map((t) => t.kind)).toEqual([
      'string',
      'text',
      'keyword',
      'text',
      'keyword',
      'text',
      'number',
    ]);
  });
});
