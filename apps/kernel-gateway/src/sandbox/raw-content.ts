import { isUtf8 } from 'node:buffer';
import type { JupyterMessage } from './types.ts';

/**
 * Large `stream` messages pass through the gateway without being parsed and re-serialised: that
 * JSON round trip of every megabyte of stdout cost more CPU than the rest of the output path. The
 * agent's content bytes are kept and written to clients verbatim, but only after checking that they
 * are exactly `{"name": "stdout"|"stderr", "text": "<valid JSON string>"}` in valid UTF-8, so user
 * code writing to the agent socket cannot smuggle extra JSON into a client's frame. Reading
 * `message.content` still works (it parses on first use) and drops the raw bytes, so anything that
 * reads, and might change, the content is re-serialised as before.
 */
const RAW = Symbol('kiln.rawContent');

/** Below this the JSON round trip is cheap and not worth the check. */
const MIN_RAW_BYTES = 16 * 1024;

const PREFIXES = ['stdout', 'stderr'].flatMap((name) => [
  Buffer.from(`{"name": "${name}", "text": "`),
  Buffer.from(`{"name":"${name}","text":"`),
]);
const SUFFIX = Buffer.from('"}');

const ESCAPES = new Set([...'"\\/bfnrt'].map((c) => c.charCodeAt(0)));
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding raw control bytes, which JSON strings may not contain, is the point
const CONTROL = /[\x00-\x1f]/;

function isHex(code: number): boolean {
  return (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x46) || (code >= 0x61 && code <= 0x66);
}

/**
 * Whether `bytes[start, end)` is the body of a JSON string literal: no control bytes, every quote
 * escaped, every escape valid. Works on a latin1 view (one char per byte; UTF-8 sequences are all
 * >= 0x80) so the scans are native indexOf/regex calls rather than a per-byte loop.
 */
function isJsonStringBody(bytes: Buffer, start: number, end: number): boolean {
  const text = bytes.toString('latin1', start, end);
  if (CONTROL.test(text)) return false;
  let pos = 0;
  let quote = text.indexOf('"');
  for (;;) {
    const slash = text.indexOf('\\', pos);
    if (quote !== -1 && (slash === -1 || quote < slash)) return false;
    if (slash === -1) return true;
    const next = text.charCodeAt(slash + 1);
    if (next === 0x75) {
      if (slash + 6 > text.length) return false;
      for (let k = slash + 2; k < slash + 6; k++) if (!isHex(text.charCodeAt(k))) return false;
      pos = slash + 6;
    } else if (ESCAPES.has(next)) {
      pos = slash + 2;
    } else {
      return false;
    }
    // An escaped quote was just consumed; find the next one past it.
    if (quote !== -1 && quote < pos) quote = text.indexOf('"', pos);
  }
}

/** Whether `raw` is a stream content object the gateway may forward verbatim. */
export function isForwardableStreamContent(raw: Buffer): boolean {
  if (raw.byteLength < MIN_RAW_BYTES) return false;
  const prefix = PREFIXES.find((p) => raw.subarray(0, p.byteLength).equals(p));
  if (!prefix) return false;
  const end = raw.byteLength - SUFFIX.byteLength;
  if (!raw.subarray(end).equals(SUFFIX)) return false;
  return isJsonStringBody(raw, prefix.byteLength, end) && isUtf8(raw);
}

type WithRaw = JupyterMessage & { [RAW]?: Buffer };

/** Gives `message` a content that is parsed from `raw` on first read; until then `rawContent` returns `raw`. */
export function setLazyContent(message: JupyterMessage, raw: Buffer): void {
  const target = message as WithRaw;
  let parsed: Record<string, unknown> | undefined;
  // Dropped once parsed, so a buffered message does not hold its output twice.
  let source: Buffer | undefined = raw;
  target[RAW] = raw;
  Object.defineProperty(target, 'content', {
    enumerable: true,
    configurable: true,
    get() {
      if (parsed === undefined) {
        parsed = JSON.parse((source as Buffer).toString('utf8')) as Record<string, unknown>;
        source = undefined;
        target[RAW] = undefined;
      }
      return parsed;
    },
    set(value: Record<string, unknown>) {
      parsed = value;
      source = undefined;
      target[RAW] = undefined;
    },
  });
}

/** The content's original JSON bytes, if nothing has read the content since it arrived. */
export function rawContent(message: JupyterMessage): Buffer | undefined {
  return (message as WithRaw)[RAW];
}
