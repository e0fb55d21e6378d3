import { isUtf8 } from 'node:buffer';
import type { JupyterMessage } from './types.ts';

/**
 * Stream output arrives from the agent as plain UTF-8 text (see frame-codec.ts) and the gateway
 * writes its JSON content once, here; clients get those bytes verbatim, so a megabyte of stdout is
 * escaped once and never parsed. Reading `message.content` still works (it parses on first use) and
 * drops the raw bytes, so anything that reads, and might change, the content is re-serialised.
 */
const RAW = Symbol('kiln.rawContent');

const STREAM_PREFIX = {
  stdout: Buffer.from('{"name":"stdout","text":"'),
  stderr: Buffer.from('{"name":"stderr","text":"'),
};
const STREAM_SUFFIX = Buffer.from('"}');
/**
 * Bytes escaped per step: the strings of one step stay in V8's young generation (under its 128 KiB
 * large-object size), where they die cheaply; megabyte strings went to the old generation and made
 * most of the gateway's work on large output full collections.
 */
const STEP = 32 * 1024;

/**
 * The `stream` content `{"name", "text"}` as JSON bytes, from the text's UTF-8 bytes. Valid UTF-8 is
 * escaped byte-wise: read as latin1 (one char per byte), JSON.stringify escapes exactly the bytes a
 * JSON string must (quote, backslash, 0x00-0x1f; a multi-byte sequence never contains them, and a
 * one-byte string has no surrogates), and writing it back as latin1 restores every other byte. The
 * output is identical to stringifying the decoded text, from V8's native escaper without a piece per
 * escape (the regex walk it replaces was 2-60x slower). Invalid UTF-8 is decoded with U+FFFD first.
 */
export function streamContentJson(name: 'stdout' | 'stderr', text: Buffer): Buffer {
  if (!isUtf8(text))
    return Buffer.from(`{"name":"${name}","text":${JSON.stringify(text.toString('utf8'))}}`, 'utf8');
  const prefix = STREAM_PREFIX[name];
  // Room for one escape per 16 bytes (text with a newline per line needs less); grown when short.
  let out = Buffer.allocUnsafe(prefix.length + text.length + (text.length >> 4) + 64);
  prefix.copy(out, 0);
  let end = prefix.length;
  for (let start = 0; start < text.length; start += STEP) {
    const quoted = JSON.stringify(text.toString('latin1', start, Math.min(text.length, start + STEP)));
    const needed = end + quoted.length - 2 + (text.length - start) + STREAM_SUFFIX.length;
    if (needed > out.length) {
      const grown = Buffer.allocUnsafe(needed + (needed >> 2));
      out.copy(grown, 0, 0, end);
      out = grown;
    }
    end += out.write(quoted.slice(1, -1), end, 'latin1');
  }
  STREAM_SUFFIX.copy(out, end);
  return out.subarray(0, end + STREAM_SUFFIX.length);
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
