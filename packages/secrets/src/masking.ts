/** What a secret value is replaced with in outputs and logs. */
export const MASK = '********';

// Shorter values would mask ordinary text ("1", "id") all over every output.
const MIN_MASKED_LENGTH = 4;
// Encoded forms are masked only when this long: a 4-character stretch of base64 or hex turns up by
// chance inside any image output, and masking it there would corrupt the image.
const MIN_ENCODED_LENGTH = 8;

/**
 * Replaces secret values in text. Callable as `mask(text)`; `heldBack(text)` tells a caller that
 * receives text in pieces (a kernel's stream output) how many characters at the end of `text` could
 * be the start of a value, so it keeps them until the next piece arrives instead of showing half a
 * secret that the next piece would complete.
 */
export interface Masker {
  (text: string): string;
  heldBack(text: string): number;
}

/**
 * A masker replacing every occurrence of `values` (and of each line of a multi-line value) with
 * `********`, verbatim and in the forms a program commonly prints a value in: base64 (standard and
 * URL-safe, at any byte alignment inside a longer encoded text), hex (either case) and URL encoding.
 * The longest first, so a value containing another is masked whole.
 */
export function createMasker(values: Iterable<string>): Masker {
  const needles = new Set<string>();
  for (const value of values) {
    const pieces = [value, ...value.split(/\r?\n/).map((line) => line.trim())];
    for (const piece of pieces) {
      if (piece.length < MIN_MASKED_LENGTH) continue;
      needles.add(piece);
      for (const encoded of encodings(piece)) if (encoded.length >= MIN_ENCODED_LENGTH) needles.add(encoded);
    }
  }
  const sorted = [...needles].sort((a, b) => b.length - a.length);
  const prefixTables = sorted.map(prefixFunction);
  const mask = (text: string) => {
    let masked = text;
    for (const needle of sorted) if (masked.includes(needle)) masked = masked.split(needle).join(MASK);
    return masked;
  };
  const heldBack = (text: string) => {
    let longest = 0;
    sorted.forEach((needle, index) => {
      longest = Math.max(longest, suffixThatStarts(needle, prefixTables[index] as number[], text));
    });
    return longest;
  };
  return Object.assign(mask, { heldBack });
}

// A JSON text's tokens: strings (with their escapes) first, so a number inside a string is not one.
const JSON_TOKEN = /"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null/g;

/**
 * A JSON text (a function's result) with secret values masked and still valid JSON of the same shape:
 * each string is masked as the text it decodes to (so escapes such as `\u00e9` or `\"` cannot hide a
 * value) and re-encoded; a number or literal whose text would be masked becomes the string it masks to.
 * What is left untouched keeps its exact text (big integers, formatting). A value that still shows
 * verbatim across tokens (a secret that is itself JSON, returned parsed) turns the whole result into
 * the masked text as one JSON string: the caller loses the shape, never the secret.
 */
export function maskJsonText(text: string, mask: (text: string) => string): string {
  const masked = text.replace(JSON_TOKEN, (token) => {
    if (!token.startsWith('"')) {
      const plain = mask(token);
      return plain === token ? token : JSON.stringify(plain);
    }
    const raw = mask(token);
    let decoded: string;
    try {
      decoded = JSON.parse(token) as string;
    } catch {
      return raw;
    }
    const clean = mask(decoded);
    return clean === decoded && raw === token ? token : JSON.stringify(clean);
  });
  const rest = mask(masked);
  return rest === masked ? masked : JSON.stringify(rest);
}

/** The value as base64 (three alignments, two alphabets), hex and URL-encoded. */
function encodings(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  const out: string[] = [bytes.toString('hex'), bytes.toString('hex').toUpperCase()];
  for (let offset = 0; offset < 3; offset++) {
    const stable = stableBase64(bytes, offset);
    out.push(stable, stable.replaceAll('+', '-').replaceAll('/', '_'));
  }
  // encodeURIComponent leaves !'()* alone; Python's quote() and most form encoders escape them.
  const uri = encodeURIComponent(value);
  const strict = uri.replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  for (const form of [uri, strict]) if (form !== value) out.push(form, form.replaceAll('%20', '+'));
  return out;
}

/**
 * The base64 characters that depend only on `bytes` when they start `offset` bytes into a 3-byte
 * group of a longer text: the partly-filled first and last groups are left out.
 */
function stableBase64(bytes: Buffer, offset: number): string {
  const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64');
  const start = offset === 0 ? 0 : 4;
  const complete = Math.floor((offset + bytes.length) / 3) * 4;
  return encoded.slice(start, Math.max(start, complete));
}

/** Knuth-Morris-Pratt prefix function of `needle`. */
function prefixFunction(needle: string): number[] {
  const table = new Array<number>(needle.length).fill(0);
  for (let i = 1, k = 0; i < needle.length; i++) {
    while (k > 0 && needle[i] !== needle[k]) k = table[k - 1] as number;
    if (needle[i] === needle[k]) k++;
    table[i] = k;
  }
  return table;
}

/** Length of the longest end of `text` that is a proper start of `needle`. */
function suffixThatStarts(needle: string, table: number[], text: string): number {
  let k = 0;
  for (let i = Math.max(0, text.length - needle.length + 1); i < text.length; i++) {
    while (k > 0 && text[i] !== needle[k]) k = table[k - 1] as number;
    if (text[i] === needle[k]) k++;
    if (k === needle.length) k = table[k - 1] as number;
  }
  return k;
}
