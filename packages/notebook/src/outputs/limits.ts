/** Caps that keep one runaway cell from making the shared document huge. */
export interface OutputLimits {
  /** Most UTF-8 bytes of text kept in one output (stream text, or a rich output's data). */
  maxOutputBytes: number;
  /** Most outputs kept in one cell; later ones are dropped (and handed to `onOverflow`). */
  maxOutputsPerCell: number;
}

export const DEFAULT_OUTPUT_LIMITS: OutputLimits = {
  maxOutputBytes: 1024 * 1024,
  maxOutputsPerCell: 500,
};

/** UTF-8 length of a string without encoding it. */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

/** The longest prefix of `text` that fits in `maxBytes` of UTF-8, never splitting a character. */
export function utf8Prefix(text: string, maxBytes: number): string {
  let bytes = 0;
  let end = 0;
  for (const char of text) {
    const size = utf8Length(char);
    if (bytes + size > maxBytes) break;
    bytes += size;
    end += char.length;
  }
  return text.slice(0, end);
}

/** "812 B", "12.3 kB", "12.3 MB", "1.2 GB" (decimal units, as file managers show them). */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** What a truncated output shows in place of what did not fit. */
export interface TruncationInfo {
  kind: 'stream' | 'data' | 'outputs';
  /** Bytes the output has produced so far (for `outputs`, bytes of the dropped outputs). */
  totalBytes: number;
  /** Outputs dropped so far (only for `outputs`). */
  droppedOutputs: number;
  /** The key the overflow was reported under, for a download link. */
  key: string;
}

/** The default note: "[output truncated: 12.3 MB total; download the full output]". */
export function defaultTruncationNote(info: TruncationInfo): string {
  if (info.kind === 'outputs') {
    return `[output truncated: ${info.droppedOutputs} more outputs (${formatBytes(info.totalBytes)}) not shown; download the full output]`;
  }
  return `[output truncated: ${formatBytes(info.totalBytes)} total; download the full output]`;
}
