import * as random from 'lib0/random';

/** nbformat 4.5 cell id rule: 1-64 characters of letters, digits, `-` and `_`. */
export const CELL_ID_PATTERN = /^[a-zA-Z0-9-_]{1,64}$/;

/** Whether `id` is a valid nbformat 4.5 cell id. */
export function isValidCellId(id: unknown): id is string {
  return typeof id === 'string' && CELL_ID_PATTERN.test(id);
}

/** A fresh random cell id in nbformat's style (8 hex characters). */
export function randomCellId(taken?: ReadonlySet<string>): string {
  for (;;) {
    const id = random.uint32().toString(16).padStart(8, '0');
    if (!taken?.has(id)) return id;
  }
}

/** 32-bit FNV-1a hash of a string's UTF-16 units. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/**
 * An id derived only from `seed`, so loading the same file twice yields the same Yjs history
 * (random ids on load are one way collaborators end up with duplicated cells).
 */
export function deterministicCellId(seed: string, taken: ReadonlySet<string>): string {
  for (let attempt = 0; ; attempt++) {
    const id = fnv1a(attempt === 0 ? seed : `${seed}\u0000${attempt}`)
      .toString(16)
      .padStart(8, '0');
    if (!taken.has(id)) return id;
  }
}
