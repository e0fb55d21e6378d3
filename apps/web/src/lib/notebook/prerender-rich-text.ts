import type { CellJson, JsonValue } from '@kiln/notebook';
import { renderLatex, renderMarkdownHtml } from './markdown.ts';
import { joinText, pickMime } from './output-model.ts';
import {
  type PrerenderedRichText,
  type PrerenderedRichTexts,
  type RichTextKind,
  richTextKey,
} from './rich-text-key.ts';
import { sanitizeSimpleHtml } from './simple-html.ts';

/**
 * Past this much source or HTML a piece of rich text is left to the browser: the page carries its
 * HTML twice (the document and the hydration data), and one huge cell should not slow every open.
 */
export const PRERENDER_MAX_BYTES = 96 * 1024;

const bytes = (text: string) => Buffer.byteLength(text, 'utf8');

function render(kind: RichTextKind, source: string): PrerenderedRichText | null {
  if (kind === 'markdown') return renderMarkdownHtml(source);
  if (kind === 'latex') return { html: renderLatex(source), exact: true };
  // HTML the DOM-free sanitiser does not accept is left to the browser's DOMPurify.
  const html = sanitizeSimpleHtml(source);
  return html === null ? null : { html, exact: true };
}

function add(out: PrerenderedRichTexts, kind: RichTextKind, source: string): void {
  if (!source.trim() || bytes(source) > PRERENDER_MAX_BYTES) return;
  const key = richTextKey(kind, source);
  if (out[key]) return;
  const rendered = render(kind, source);
  if (!rendered || bytes(rendered.html) > PRERENDER_MAX_BYTES) return;
  out[key] = rendered;
}

/**
 * Server renders of the cells' markdown and of their markdown, TeX and HTML outputs, so the page
 * shows them at their final size in the first response and the browser loads marked, KaTeX and
 * DOMPurify only for text it edits or that was not rendered here. HTML is rendered only when
 * simple-html.ts accepts it, which gives exactly DOMPurify's result. Without a DOM raw HTML in markdown is escaped; such a
 * render is marked inexact and the browser renders it again through DOMPurify.
 */
export function prerenderRichText(cells: readonly CellJson[]): PrerenderedRichTexts {
  const out: PrerenderedRichTexts = {};
  for (const cell of cells) {
    if (cell.cell_type === 'markdown') add(out, 'markdown', cell.source ?? '');
    if (cell.cell_type !== 'code' || !Array.isArray(cell.outputs)) continue;
    for (const output of cell.outputs) {
      const data = output.data as Record<string, JsonValue> | undefined;
      const mime = pickMime(data);
      if (mime === 'text/markdown') add(out, 'markdown', joinText(data?.[mime]));
      if (mime === 'text/latex') add(out, 'latex', joinText(data?.[mime]));
      if (mime === 'text/html') add(out, 'html', joinText(data?.[mime]));
    }
  }
  return out;
}
