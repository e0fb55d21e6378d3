import type { JsonValue, OutputJson } from '@kiln/notebook';

/** Mime types we render, richest first (Jupyter's display order). */
export const MIME_ORDER = [
  'application/vnd.jupyter.widget-view+json',
  'text/html',
  'image/svg+xml',
  'image/png',
  'image/jpeg',
  'text/markdown',
  'text/latex',
  'application/json',
  'text/plain',
] as const;

export type RenderedMime = (typeof MIME_ORDER)[number];

/** The representation of a display output to show, or null for an empty bundle. */
export function pickMime(data: Record<string, JsonValue> | undefined): RenderedMime | null {
  if (!data) return null;
  for (const mime of MIME_ORDER) {
    if (mime === 'application/vnd.jupyter.widget-view+json') continue;
    if (data[mime] !== undefined) return mime;
  }
  return null;
}

/** nbformat stores multi-line strings either joined or as a list of lines. */
export function joinText(value: JsonValue | undefined): string {
  if (Array.isArray(value)) return value.map((line) => (typeof line === 'string' ? line : '')).join('');
  return typeof value === 'string' ? value : '';
}

/** The plain text of an output, for measuring and for the truncation note. */
export function outputText(output: OutputJson): string {
  if (output.output_type === 'stream') return joinText(output.text);
  if (output.output_type === 'error') {
    return Array.isArray(output.traceback)
      ? output.traceback.join('\n')
      : `${output.ename}: ${output.evalue}`;
  }
  const data = output.data as Record<string, JsonValue> | undefined;
  return joinText(data?.['text/plain']);
}

const NOTE = /\[output truncated: [^\]\n]*\]/;
/** How @kiln/execution's `overflowNote` appends the download key after the note. */
const KEY_IN_NOTE = /kiln-overflow:([A-Za-z0-9_-]{1,200})/;

/** Output text without the machine-readable overflow key (the link below the output replaces it). */
export function withoutOverflowKey(text: string): string {
  return text.replace(/ ?kiln-overflow:[A-Za-z0-9_-]+/g, '');
}

/** The truncation note the execution service put in an output, and its download key if it has one. */
export function truncationOf(output: OutputJson): { note: string; key: string | null } | null {
  const text = outputText(output);
  const match = NOTE.exec(text);
  if (!match) return null;
  const metadata = output.metadata as Record<string, JsonValue> | undefined;
  const kiln = metadata?.kiln as Record<string, JsonValue> | undefined;
  const fromMetadata = typeof kiln?.overflow_key === 'string' ? kiln.overflow_key : null;
  return { note: match[0], key: fromMetadata ?? KEY_IN_NOTE.exec(text.slice(match.index))?.[1] ?? null };
}

/** Outputs of more lines than this show in a fixed-height scroll box ("Show all output" opens it). */
export const LONG_OUTPUT_LINES = 60;

/** Lines of text an output shows (an estimate for placeholders and for auto-scrolling long outputs). */
export function outputLines(outputs: readonly OutputJson[]): { lines: number; images: number } {
  let lines = 0;
  let images = 0;
  for (const output of outputs) {
    const data = output.data as Record<string, JsonValue> | undefined;
    if (data && (data['image/png'] || data['image/jpeg'] || data['image/svg+xml'])) images++;
    else if (data?.['text/html']) lines += Math.min(40, joinText(data['text/html']).split('<tr').length + 2);
    else {
      const text = outputText(output);
      let count = 1;
      for (let i = 0; i < text.length && count < 10_000; i++) if (text.charCodeAt(i) === 10) count++;
      lines += count;
    }
  }
  return { lines, images };
}
