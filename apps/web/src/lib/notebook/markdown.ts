import katex from 'katex';
import { Marked, type MarkedExtension, type Tokens } from 'marked';
import { highlightPythonHtml, isPythonLanguage } from './highlight.ts';
import { extractMath, MATH_TOKEN } from './markdown-math.ts';
import { canSanitize, sanitizeHtml } from './sanitize.ts';

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const escapeAttribute = (text: string) => text.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

/** Relative URLs and web or mail links; no control characters a browser would strip from a scheme. */
function safeUrl(href: string): boolean {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[\u0000-\u0020\u007f]/.test(href)) return false;
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(href)?.[1]?.toLowerCase();
  return scheme === undefined || scheme === 'http' || scheme === 'https' || scheme === 'mailto';
}

/** What marked's own renderers do to a URL: percent-encode it (null when it cannot be). */
function cleanUrl(href: string): string | null {
  try {
    return encodeURI(href).replace(/%25/g, '%');
  } catch {
    return null;
  }
}

const title = (value: string | null | undefined) => (value ? ` title="${escapeAttribute(value)}"` : '');

/**
 * Renderers that apply the sanitiser's rules while the markdown is turned into HTML, so the HTML
 * is the same with or without a DOM (server prerendering has none): links open in a new tab without
 * a handle on the app (the sanitiser's link hook), images keep only embedded (data:) sources (no
 * tracking beacon), task-list checkboxes go (forms are forbidden), Python blocks are highlighted.
 */
const policy: MarkedExtension = {
  renderer: {
    code({ text, lang }) {
      if (!isPythonLanguage(lang)) return false;
      return `<pre class="code-block"><code class="language-python">${highlightPythonHtml(text)}</code></pre>\n`;
    },
    checkbox() {
      return '';
    },
    link(token: Tokens.Link) {
      const text = this.parser.parseInline(token.tokens);
      const href = safeUrl(token.href) ? cleanUrl(token.href) : null;
      if (href === null) return text;
      return `<a href="${escapeAttribute(href)}"${title(token.title)} rel="noopener noreferrer nofollow" target="_blank">${text}</a>`;
    },
    image(token: Tokens.Image) {
      const href = cleanUrl(token.href.trim());
      const src = href && /^data:image\//i.test(href) ? ` src="${escapeAttribute(href)}"` : '';
      return `<img${src} alt="${escapeAttribute(token.text)}"${title(token.title)}>`;
    },
  },
};

/** In the browser raw HTML in markdown goes to DOMPurify, which keeps what is safe. */
const browserMarked = new Marked({ gfm: true, breaks: false, async: false }, policy);

/**
 * Without a DOM there is nothing to sanitise raw HTML with, so it is escaped (shown as text), and
 * the render is marked inexact: the browser, which keeps the safe part of it, renders such a cell
 * itself. Everything else marked escapes on its own.
 */
let escapedHtml = false;
const serverMarked = new Marked({ gfm: true, breaks: false, async: false }, policy, {
  renderer: {
    html({ text }) {
      escapedHtml = true;
      return escapeHtml(text);
    },
  },
});

/** Shown while the browser has no DOMPurify-checked render of raw HTML; its render replaces it. */
export interface RichTextHtml {
  html: string;
  /** False when the browser would render this source differently (raw HTML escaped here). */
  exact: boolean;
}

/**
 * KaTeX's MathML keeps the TeX in an <annotation> inside <semantics>, elements the sanitiser does
 * not allow; they are unwrapped here (the MathML stays), so a render is the same on both sides.
 */
function typeset(tex: string, display: boolean): string {
  return katex
    .renderToString(tex, { displayMode: display, throwOnError: false, output: 'htmlAndMathml' })
    .replace(/<annotation encoding="application\/x-tex">[\s\S]*?<\/annotation>/g, '')
    .replace(/<\/?semantics>/g, '');
}

/** Markdown as HTML, with `$...$` and `$$...$$` typeset by KaTeX; sanitised when there is a DOM. */
export function renderMarkdownHtml(source: string): RichTextHtml {
  const { text, math } = extractMath(source);
  const dom = canSanitize();
  escapedHtml = false;
  const html = (dom ? browserMarked : serverMarked).parse(text) as string;
  const exact = !escapedHtml;
  const withMath = html.replace(MATH_TOKEN, (_, index: string) => {
    const span = math[Number(index)];
    return span ? typeset(span.tex, span.display) : '';
  });
  return { html: dom ? sanitizeHtml(withMath) : withMath, exact };
}

/** A `text/latex` output (TeX with or without its `$$` delimiters) typeset as display math. */
export function renderLatex(source: string): string {
  return typeset(source.trim().replace(/^\$\$?|\$\$?$/g, ''), true);
}

// Scrolling a long notebook re-mounts the same markdown cells; KaTeX is the expensive part.
const cache = new Map<string, string>();
const CACHE_ENTRIES = 300;

/** A markdown cell as sanitised HTML (escaped where there is no DOM), math typeset by KaTeX. */
export function renderMarkdown(source: string): string {
  const hit = cache.get(source);
  if (hit !== undefined) return hit;
  const { html } = renderMarkdownHtml(source);
  if (cache.size >= CACHE_ENTRIES) cache.delete(cache.keys().next().value as string);
  cache.set(source, html);
  return html;
}
