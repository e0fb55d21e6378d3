import { defaultTruncationNote, type OverflowEvent, type TruncationInfo } from '@kiln/notebook';

/** Finds the download keys in truncation notes: `kiln-overflow:<key>` (the UI turns them into links). */
export const OVERFLOW_KEY_PATTERN = /kiln-overflow:([A-Za-z0-9_-]+)/g;

/** The note left where output was cut: JupyterLab-style text plus the key to download the rest. */
export function overflowNote(info: TruncationInfo): string {
  return `${defaultTruncationNote(info)} kiln-overflow:${info.key}`;
}

/** What a download of cut-off output returns. */
export interface OverflowDownload {
  key: string;
  notebookId: string;
  cellId: string;
  kind: OverflowEvent['kind'];
  /** `text/plain; charset=utf-8` for stream text, `application/json` for outputs. */
  mimeType: string;
  /** Stream: the whole text. `data`: the output as nbformat JSON. `outputs`: a JSON array of the dropped outputs. */
  body: string;
  /** Bytes the kernel produced for this key. */
  totalBytes: number;
  /** False when the entry outgrew its bound and stopped recording: `body` is a prefix. */
  complete: boolean;
}

/** Keeps what OutputWriter cut from the document so the UI can offer "download the full output". */
export interface OverflowStore {
  put(notebookId: string, event: OverflowEvent): void;
  get(key: string): OverflowDownload | undefined;
  /** Forgets every entry of a notebook (e.g. when it is deleted). */
  deleteNotebook(notebookId: string): void;
  /** Bytes held now. */
  readonly bytes: number;
}

interface Entry {
  notebookId: string;
  cellId: string;
  kind: OverflowEvent['kind'];
  parts: string[];
  bytes: number;
  totalBytes: number;
  complete: boolean;
}

export interface MemoryOverflowOptions {
  /** Bytes kept across all entries; the least recently written entries go first. */
  maxBytes: number;
  /** Bytes kept for one key. */
  maxEntryBytes: number;
}

/**
 * An in-memory overflow store bounded in bytes. Entries live until evicted, so a download link
 * stays valid while the process runs and the store has room; after that the UI says it expired.
 */
export function createMemoryOverflowStore(options: MemoryOverflowOptions): OverflowStore {
  const entries = new Map<string, Entry>();
  let total = 0;

  function evict(keep: string): void {
    for (const [key, entry] of entries) {
      if (total <= options.maxBytes) return;
      if (key === keep) continue;
      entries.delete(key);
      total -= entry.bytes;
    }
  }

  function append(entry: Entry, part: string): void {
    const size = Buffer.byteLength(part);
    if (!entry.complete) return;
    if (entry.bytes + size > Math.min(options.maxEntryBytes, options.maxBytes)) {
      entry.complete = false;
      return;
    }
    entry.parts.push(part);
    entry.bytes += size;
    total += size;
  }

  return {
    put(notebookId, event) {
      let entry = entries.get(event.key);
      if (entry) entries.delete(event.key);
      else
        entry = {
          notebookId,
          cellId: event.cellId,
          kind: event.kind,
          parts: [],
          bytes: 0,
          totalBytes: 0,
          complete: true,
        };
      // Re-inserted so Map order is least recently written first.
      entries.set(event.key, entry);
      entry.totalBytes = event.totalBytes;
      if (event.kind === 'stream') append(entry, event.text ?? '');
      else if (event.output) append(entry, JSON.stringify(event.output));
      evict(event.key);
    },
    get(key) {
      const entry = entries.get(key);
      if (!entry) return undefined;
      const stream = entry.kind === 'stream';
      return {
        key,
        notebookId: entry.notebookId,
        cellId: entry.cellId,
        kind: entry.kind,
        mimeType: stream ? 'text/plain; charset=utf-8' : 'application/json',
        body: stream
          ? entry.parts.join('')
          : entry.kind === 'data'
            ? (entry.parts[0] ?? 'null')
            : `[${entry.parts.join(',')}]`,
        totalBytes: entry.totalBytes,
        complete: entry.complete,
      };
    },
    deleteNotebook(notebookId) {
      for (const [key, entry] of entries) {
        if (entry.notebookId !== notebookId) continue;
        entries.delete(key);
        total -= entry.bytes;
      }
    },
    get bytes() {
      return total;
    },
  };
}
