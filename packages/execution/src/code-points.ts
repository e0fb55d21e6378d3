/**
 * Jupyter (protocol 5.2+) counts cursor positions in Unicode code points; JavaScript strings and
 * Monaco count UTF-16 code units. These convert between the two for one piece of text.
 */

/** The code-point offset of UTF-16 offset `utf16` in `text` (clamped to the text). */
export function toCodePoints(text: string, utf16: number): number {
  const end = Math.max(0, Math.min(utf16, text.length));
  let points = 0;
  for (let i = 0; i < end; i++) {
    const unit = text.charCodeAt(i);
    // A low surrogate that follows a high one belongs to the same code point.
    if (unit >= 0xdc00 && unit <= 0xdfff && i > 0 && isHigh(text.charCodeAt(i - 1))) continue;
    points++;
  }
  return points;
}

/** The UTF-16 offset of code-point offset `points` in `text` (clamped to the text). */
export function toUtf16(text: string, points: number): number {
  let offset = 0;
  for (let seen = 0; seen < points && offset < text.length; seen++) {
    const unit = text.charCodeAt(offset);
    offset += isHigh(unit) && offset + 1 < text.length && isLow(text.charCodeAt(offset + 1)) ? 2 : 1;
  }
  return offset;
}

function isHigh(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdbff;
}

function isLow(unit: number): boolean {
  return unit >= 0xdc00 && unit <= 0xdfff;
}
