import katex from 'katex';
import { Marked } from 'marked';
import { highlightPythonHtml, isPythonLanguage } from './highlight.ts';
import { extractMath, MATH_TOKEN } from './markdown-math.ts';
import { canSanitize, sanitizeHtml } from './sanitize.ts';

const marked = new Marked({ gfm: true, breaks: false, async: false });
// Python code blocks get the notebook's own highlighting; the sanitiser keeps the span classes.
marked.use({
  renderer: {
    code({ text, lang }) {
      if (!isPythonLanguage(lang)) return false;
      return `<pre class="code-block"><code class="language-python">${highlightPythonHtml(text)}</code></pre>\n`;
    },
  },
});

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Relative URLs and web or mail links; no control characters a browser would strip from a scheme. */
function safeUrl(href: string): boolean {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[\u0000-\u0020\u007f]/.test(href)) return false;
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(href)?.[1]?.toLowerCase();
  return scheme === undefined || scheme === 'http' || scheme === 'https' || scheme === 'mailto';
}

/**
 * Server rendering has no DOM to sanitise with, yet markdown cells must render there at their final
 * size (else they shift the page when the browser fills them in). marked escapes text, attributes
 * and URLs itself; what it passes through raw is HTML in the markdown, escaped here, and link and
 * image URLs, kept only when they are web links. The browser re-renders through DOMPurify.
 */
const serverMarked = new Marked({ gfm: true, breaks: false, async: false });
serverMarked.use({
  renderer: {
    code({ text, lang }) {
      if (!isPythonLanguage(lang)) return false;
      return `<pre class="code-block"><code class="language-python">${highlightPythonHtml(text)}</code></pre>\n`;
    },
    html({ text }) {
      return escapeHtml(text);
    },
    link(token) {
      return safeUrl(token.href) ? false : this.parser.parseInline(token.tokens);
    },
    image(token) {
      return safeUrl(token.href) ? false : escapeHtml(token.text);
    },
  },
});

// Scrolling a long notebook re-mounts the same markdown cells; KaTeX is the expensive part.
const cache = new Map<string, string>();
const CACHE_ENTRIES = 300;

/** A markdown cell as sanitised HTML, with `$...$` and `$$...$$` typeset by KaTeX. */
export function renderMarkdown(source: string): string {
  const hit = cache.get(source);
  if (hit !== undefined) return hit;
  const html = render(source);
  if (cache.size >= CACHE_ENTRIES) cache.delete(cache.keys().next().value as string);
  cache.set(source, html);
  return html;
}

function render(source: string): string {
  const { text, math } = extractMath(source);
  const dom = canSanitize();
  const html = (dom ? marked : serverMarked).parse(text) as string;
  const withMath = html.replace(MATH_TOKEN, (_, index: string) => {
    const span = math[Number(index)];
    if (!span) return '';
    return katex.renderToString(span.tex, {
      displayMode: span.display,
      throwOnError: false,
      output: 'htmlAndMathml',
    });
  });
  return dom ? sanitizeHtml(withMath) : withMath;
}
