'use client';
import { tokenizePythonLine } from '../../lib/notebook/highlight.ts';
import type { monaco as Monaco } from './monaco.ts';

type MonacoApi = typeof Monaco;

// Read from the CSS custom properties the static code view uses, so both always agree.
const TOKENS = ['keyword', 'string', 'comment', 'number', 'tag'] as const;
const CSS_VAR: Record<(typeof TOKENS)[number], string> = {
  keyword: '--tok-keyword',
  string: '--tok-string',
  comment: '--tok-comment',
  number: '--tok-number',
  tag: '--tok-decorator',
};

function cssColor(name: string, fallback: string): string {
  const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return (value || fallback).replace(/^#/, '');
}

const dark = () => window.matchMedia('(prefers-color-scheme: dark)').matches;

function defineTheme(monaco: MonacoApi): string {
  const isDark = dark();
  const name = isDark ? 'kiln-dark' : 'kiln-light';
  const rules = TOKENS.flatMap((token) => {
    const foreground = cssColor(CSS_VAR[token], isDark ? 'ffffff' : '000000');
    return [
      { token, foreground },
      { token: `${token}.python`, foreground },
      // Quotes are `string.escape` in Monaco's Python grammar; the static view colours them as strings.
      ...(token === 'string' ? [{ token: 'string.escape', foreground }] : []),
      ...(token === 'number'
        ? [
            { token: 'number.hex', foreground },
            { token: 'number.float', foreground },
          ]
        : []),
    ];
  });
  monaco.editor.defineTheme(name, {
    base: isDark ? 'vs-dark' : 'vs',
    inherit: true,
    rules: [{ token: '', foreground: cssColor('--color-text', isDark ? 'ececef' : '18181b') }, ...rules],
    colors: {
      'editor.background': `#${cssColor('--color-code-bg', isDark ? '1e1e22' : 'fbfbfc')}`,
      'editor.foreground': `#${cssColor('--color-text', isDark ? 'ececef' : '18181b')}`,
      'editorCursor.foreground': `#${cssColor('--color-accent', 'c2410c')}`,
    },
  });
  return name;
}

let watching = false;

/** Applies Kiln's Monaco theme for the current colour scheme, and follows system changes. */
export function applyMonacoTheme(monaco: MonacoApi): void {
  monaco.editor.setTheme(defineTheme(monaco));
  if (watching) return;
  watching = true;
  window
    .matchMedia('(prefers-color-scheme: dark)')
    .addEventListener('change', () => monaco.editor.setTheme(defineTheme(monaco)));
}

let tokenizing = false;

/**
 * Python in the editor is tokenized by the static view's tokenizer, so a cell keeps exactly its
 * colours when Monaco takes over from the static code.
 */
export function registerPythonTokens(monaco: MonacoApi): void {
  if (tokenizing) return;
  tokenizing = true;
  class LineState {
    constructor(readonly openQuote: string | null) {}
    clone() {
      return new LineState(this.openQuote);
    }
    equals(other: unknown) {
      return other instanceof LineState && other.openQuote === this.openQuote;
    }
  }
  monaco.languages.setTokensProvider('python', {
    getInitialState: () => new LineState(null),
    tokenize(line, state) {
      const result = tokenizePythonLine(line, (state as LineState).openQuote);
      return {
        tokens: result.tokens.map((token) => ({
          startIndex: token.startIndex,
          scopes: token.kind === 'text' ? '' : token.kind,
        })),
        endState: new LineState(result.openQuote),
      };
    },
  });
}
