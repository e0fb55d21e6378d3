/**
 * The rich text a notebook page renders: markdown cells and outputs and TeX outputs (marked and
 * KaTeX), and HTML outputs (sanitised).
 */
export type RichTextKind = 'markdown' | 'latex' | 'html';

/** HTML the server rendered for one piece of rich text. */
export interface PrerenderedRichText {
  html: string;
  /** True when it is what the browser's renderer would produce, so the browser keeps it as it is. */
  exact: boolean;
}

/** The server's renders, by `richTextKey`: sent with the page, so the browser needs no renderer for them. */
export type PrerenderedRichTexts = Record<string, PrerenderedRichText>;

/**
 * Names a source without sending it twice: a 53-bit hash (cyrb53) of the kind and text, plus the
 * length. Two texts sharing a key would only show one's (sanitised) render for the other.
 */
export function richTextKey(kind: RichTextKind, source: string): string {
  const text = `${kind}\n${source}`;
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  const hash = 4294967296 * (2097151 & h2) + (h1 >>> 0);
  return `${hash.toString(36)}.${source.length.toString(36)}`;
}
