import katex from 'katex';
import { Marked } from 'marked';
import { extractMath, MATH_TOKEN } from './markdown-math.ts';
import { sanitizeHtml } from './sanitize.ts';

const marked = new Marked({ gfm: true, breaks: false, async: false });

/** A markdown cell as sanitised HTML, with `$...$` and `$$...$$` typeset by KaTeX. */
export function renderMarkdown(source: string): string {
  const { text, math } = extractMath(source);
  const html = marked.parse(text) as string;
  const withMath = html.replace(MATH_TOKEN, (_, index: string) => {
    const span = math[Number(index)];
    if (!span) return '';
    return katex.renderToString(span.tex, { displayMode: span.display, throwOnError: false, output: 'htmlAndMathml' });
  });
  return sanitizeHtml(withMath);
}
