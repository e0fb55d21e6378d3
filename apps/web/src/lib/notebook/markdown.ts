import katex from 'katex';
import { Marked } from 'marked';
import { highlightPythonHtml, isPythonLanguage } from './highlight.ts';
import { extractMath, MATH_TOKEN } from './markdown-math.ts';
import { sanitizeHtml } from './sanitize.ts';

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
  const html = marked.parse(text) as string;
  const withMath = html.replace(MATH_TOKEN, (_, index: string) => {
    const span = math[Number(index)];
    if (!span) return '';
    return katex.renderToString(span.tex, {
      displayMode: span.display,
      throwOnError: false,
      output: 'htmlAndMathml',
    });
  });
  return sanitizeHtml(withMath);
}
