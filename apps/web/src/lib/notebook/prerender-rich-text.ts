import type { CellJson, JsonValue } from '@kiln/notebook';
import { renderLatex, renderMarkdownHtml } from './markdown.ts';
import { joinText, pickMime } from './output-model.ts';
import { type PrerenderedRichTexts, type RichTextKind, richTextKey } from './rich-text-key.ts';

/**
 * Past this much source or HTML a piece of rich text is left to the browser: the page carries its
 * HTML twice (the document and the hydration data), and one huge cell should not slow every open.
 */
export const PRERENDER_MAX_BYTES = 96 * 1024;

const bytes = (text: string) => Buffer.byteLength(text, 'utf8');

function add(out: PrerenderedRichTexts, kind: RichTextKind, source: string): void {
  if (!source.trim() || bytes(source) > PRERENDER_MAX_BYTES) return;
  const key = richTextKey(kind, source);
  if (out[key]) return;
  const rendered =
    kind === 'markdown' ? renderMarkdownHtml(source) : { html: renderLatex(source), exact: true };
  if (bytes(rendered.html) > PRERENDER_MAX_BYTES) return;
  out[key] = rendered;
}

/**
 * Server renders of the cells' markdown and of their markdown and TeX outputs, so the page shows
 * them at their final size in the first response and the browser loads marked and KaTeX only for
 * text it edits or that was not rendered here. Without a DOM raw HTML in markdown is escaped; such a
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
    }
  }
  return out;
}
