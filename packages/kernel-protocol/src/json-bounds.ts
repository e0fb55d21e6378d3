/**
 * Limits checked on JSON bytes before JSON.parse sees them. Everything the gateway parses comes
 * from a sandbox (user code can write any bytes to the agent socket) or from a websocket client.
 * V8 parses deep nesting fine, but JSON.stringify recurses, so a message nested 100,000 levels deep
 * is parsed and then throws RangeError when the gateway forwards it; and a part with millions of
 * keys blocks the event loop, stalling every other kernel. Bounding first keeps both out.
 */
export interface JsonBounds {
  /** Deepest nesting of objects and arrays. */
  maxDepth: number;
  /** Most values (object members and array elements, counted by separators) in one document. */
  maxValues: number;
}

/** Deep enough for any widget state or rich output seen in practice, far below what recursion survives. */
export const DEFAULT_JSON_BOUNDS: JsonBounds = { maxDepth: 128, maxValues: 2_000_000 };

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;

/**
 * Why `bytes` exceeds `bounds`, or null when it is within them. Scans bytes once without decoding:
 * multi-byte UTF-8 sequences never contain these ASCII bytes, so string contents are skipped safely.
 */
export function jsonBoundsViolation(
  bytes: Uint8Array,
  bounds: JsonBounds = DEFAULT_JSON_BOUNDS,
): string | null {
  let depth = 0;
  let values = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i];
    if (inString) {
      if (byte === BACKSLASH) i++;
      else if (byte === QUOTE) inString = false;
      continue;
    }
    if (byte === QUOTE) inString = true;
    else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
      depth++;
      values++;
      if (depth > bounds.maxDepth) return `nests deeper than ${bounds.maxDepth} levels`;
    } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) depth--;
    else if (byte === COMMA && ++values > bounds.maxValues)
      return `holds more than ${bounds.maxValues} values`;
  }
  return null;
}
