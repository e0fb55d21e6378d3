/**
 * A small Python tokenizer for code shown before (or instead of) Monaco: the static cell view,
 * version previews and markdown code blocks. Its token kinds are the ones Monaco's Python grammar
 * colours, and the Monaco theme (monaco-theme.ts) uses the same CSS colours, so the switch from
 * static code to the editor changes neither layout nor colour.
 */

/** Token kinds, named after Monaco's Python token types. */
export type TokenKind = 'keyword' | 'string' | 'comment' | 'number' | 'tag' | 'text';

export interface Token {
  kind: TokenKind;
  text: string;
}

// Python's keywords and the builtins Monaco's grammar also colours as keywords.
const KEYWORDS = new Set(
  (
    'False None True and as assert async await break case class continue def del elif else except ' +
    'finally for from global if import in is lambda match nonlocal not or pass raise return try type ' +
    'while with yield print int float complex abs all any bin bool bytearray bytes callable chr ' +
    'classmethod compile delattr dict dir divmod enumerate eval exec filter format frozenset getattr ' +
    'globals hasattr hash help hex id input isinstance issubclass iter len list locals map max ' +
    'memoryview min next object oct open ord pow property range repr reversed round self set setattr ' +
    'slice sorted staticmethod str sum super tuple vars zip __init__ __name__ __class__ __dict__ __import__'
  ).split(' '),
);

const IDENT = /[A-Za-z_][A-Za-z0-9_]*/y;
const NUMBER =
  /(?:0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][+-]?\d+)?[jJ]?)/y;
const STRING_PREFIX = /(?:[rRbBuUfF]{1,2})?(?:'''|"""|'|")/y;

function push(tokens: Token[], kind: TokenKind, text: string): void {
  if (!text) return;
  const last = tokens[tokens.length - 1];
  if (last && last.kind === kind) last.text += text;
  else tokens.push({ kind, text });
}

/** Where a string that opens at `start` with `quote` ends (exclusive), honouring backslashes. */
function stringEnd(source: string, start: number, quote: string): number {
  const triple = quote.length === 3;
  let i = start;
  while (i < source.length) {
    const ch = source[i];
    if (ch === '\\') {
      i += 2;
      continue;
    }
    if (!triple && ch === '\n') return i;
    if (source.startsWith(quote, i)) return i + quote.length;
    i++;
  }
  return source.length;
}

/** Splits Python source into coloured tokens; concatenating their text gives the source back. */
export function tokenizePython(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const ch = source[i] as string;
    if (ch === '#') {
      const end = source.indexOf('\n', i);
      const stop = end === -1 ? source.length : end;
      push(tokens, 'comment', source.slice(i, stop));
      i = stop;
      continue;
    }
    STRING_PREFIX.lastIndex = i;
    const opening = STRING_PREFIX.exec(source);
    if (opening) {
      const quote = opening[0].replace(/^[rRbBuUfF]+/, '');
      const end = stringEnd(source, i + opening[0].length, quote);
      push(tokens, 'string', source.slice(i, end));
      i = end;
      continue;
    }
    if (ch === '@' && /[A-Za-z_]/.test(source[i + 1] ?? '')) {
      IDENT.lastIndex = i + 1;
      const name = IDENT.exec(source)?.[0] ?? '';
      push(tokens, 'tag', `@${name}`);
      i += name.length + 1;
      continue;
    }
    if (/[A-Za-z_]/.test(ch)) {
      IDENT.lastIndex = i;
      const word = IDENT.exec(source)?.[0] ?? ch;
      push(tokens, KEYWORDS.has(word) ? 'keyword' : 'text', word);
      i += word.length;
      continue;
    }
    if (/[0-9]/.test(ch) || (ch === '.' && /[0-9]/.test(source[i + 1] ?? ''))) {
      NUMBER.lastIndex = i;
      const number = NUMBER.exec(source)?.[0] || ch;
      push(tokens, 'number', number);
      i += number.length;
      continue;
    }
    push(tokens, 'text', ch);
    i++;
  }
  return tokens;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };
const escapeHtml = (text: string) => text.replace(/[&<>"]/g, (ch) => ESCAPES[ch] ?? ch);

/** Highlighted Python as HTML (escaped text in `<span class="tok-…">`), for markdown code blocks. */
export function highlightPythonHtml(source: string): string {
  return tokenizePython(source)
    .map((token) =>
      token.kind === 'text'
        ? escapeHtml(token.text)
        : `<span class="tok-${token.kind}">${escapeHtml(token.text)}</span>`,
    )
    .join('');
}

/** True for the info strings of fenced code blocks that are Python. */
export function isPythonLanguage(info: string | undefined): boolean {
  const lang = (info ?? '').trim().split(/\s+/)[0]?.toLowerCase() ?? '';
  return lang === 'python' || lang === 'py' || lang === 'python3' || lang === 'ipython' || lang === '';
}

/** Where a line's tokens start, for Monaco's line-by-line tokenizer. */
export interface LineToken {
  startIndex: number;
  kind: TokenKind;
}

const TRIPLE = /^(?:[rRbBuUfF]{1,2})?('''|""")/;

/**
 * One line of Python with the same tokens `tokenizePython` gives the whole source, given the
 * triple quote left open by the lines above (or null); returns the quote this line leaves open.
 * Monaco's editor uses it, so the editor and the static view colour code identically.
 */
export function tokenizePythonLine(
  line: string,
  openQuote: string | null,
): { tokens: LineToken[]; openQuote: string | null } {
  const tokens: LineToken[] = [];
  let start = 0;
  if (openQuote) {
    const close = line.indexOf(openQuote);
    if (close === -1) return { tokens: [{ startIndex: 0, kind: 'string' }], openQuote };
    start = close + openQuote.length;
    tokens.push({ startIndex: 0, kind: 'string' });
  }
  let offset = start;
  let last: Token | undefined;
  for (const token of tokenizePython(line.slice(start))) {
    if (tokens[tokens.length - 1]?.kind !== token.kind) tokens.push({ startIndex: offset, kind: token.kind });
    offset += token.text.length;
    last = token;
  }
  if (tokens.length === 0) tokens.push({ startIndex: 0, kind: 'text' });
  let leftOpen: string | null = null;
  if (last?.kind === 'string') {
    const quote = TRIPLE.exec(last.text)?.[1];
    const body = quote ? last.text.slice(last.text.indexOf(quote) + 3) : '';
    if (quote && !body.endsWith(quote)) leftOpen = quote;
  }
  return { tokens, openQuote: leftOpen };
}
