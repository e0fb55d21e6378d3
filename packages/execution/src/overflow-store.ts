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
  /** Records a cut (called for every chunk as the kernel writes; never throws). */
  put(notebookId: string, event: OverflowEvent): void;
  /** Everything recorded under `key` in that notebook, including puts not yet written through. */
  get(notebookId: string, key: string): Promise<OverflowDownload | undefined>;
  /** Forgets every entry of a notebook (e.g. when it is deleted). */
  deleteNotebook(notebookId: string): Promise<void>;
}

/** The download of an entry: stream text as is, one output as JSON, dropped outputs as a JSON array. */
export function overflowDownload(
  entry: Pick<OverflowDownload, 'key' | 'notebookId' | 'cellId' | 'kind' | 'totalBytes' | 'complete'>,
  /** Stream text, the output's JSON, or the dropped outputs' JSON joined with commas. */
  body: string,
): OverflowDownload {
  const stream = entry.kind === 'stream';
  return {
    ...entry,
    mimeType: stream ? 'text/plain; charset=utf-8' : 'application/json',
    body: entry.kind === 'outputs' ? `[${body}]` : entry.kind === 'data' && body === '' ? 'null' : body,
  };
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
export function createMemoryOverflowStore(
  options: MemoryOverflowOptions,
): OverflowStore & { readonly bytes: number } {
  const entries = new Map<string, Entry>();
  let total = 0;
  const id = (notebookId: string, key: string) => `${notebookId}/${key}`;

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
      const key = id(notebookId, event.key);
      let entry = entries.get(key);
      if (entry) entries.delete(key);
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
      entries.set(key, entry);
      entry.totalBytes = event.totalBytes;
      if (event.kind === 'stream') append(entry, event.text ?? '');
      else if (event.output && (event.kind === 'outputs' || entry.parts.length === 0))
        append(entry, JSON.stringify(event.output));
      evict(key);
    },
    async get(notebookId, key) {
      const entry = entries.get(id(notebookId, key));
      if (!entry) return undefined;
      const body = entry.parts.join(entry.kind === 'stream' ? '' : ',');
      const { notebookId: owner, cellId, kind, totalBytes, complete } = entry;
      return overflowDownload({ key, notebookId: owner, cellId, kind, totalBytes, complete }, body);
    },
    async deleteNotebook(notebookId) {
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
