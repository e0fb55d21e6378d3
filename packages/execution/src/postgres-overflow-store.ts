import { isUuid } from '@kiln/core';
import type { Db } from '@kiln/db';
import type { OverflowEvent } from '@kiln/notebook';
import { type OverflowStore, overflowDownload } from './overflow-store.ts';

export interface PostgresOverflowOptions {
  /** Bytes kept for one key; past it the download is marked incomplete. */
  maxEntryBytes: number;
  /** Bytes kept per notebook; the least recently written entries go first. */
  maxNotebookBytes: number;
  /** Told about a write that failed (the download then lacks that part); default console.error. */
  onError?: (error: unknown) => void;
}

/** What has been put under one key since the last write to Postgres. */
interface Pending {
  notebookId: string;
  key: string;
  cellId: string;
  kind: OverflowEvent['kind'];
  parts: string[];
  totalBytes: number;
  complete: boolean;
}

/** What this process knows of an entry: enough to bound it without reading it back. */
interface Known {
  bytes: number;
  complete: boolean;
  hasData: boolean;
}

/** Keys this process tracks the size of; far more than can be running at once. */
const MAX_KNOWN = 10_000;

interface Row {
  cellId: string;
  kind: string;
  body: Uint8Array;
  totalBytes: bigint;
  complete: boolean;
}

/**
 * Cut-off output kept in the `OutputOverflow` table, so a truncation note's download link survives a
 * restart of the web server. put() is synchronous and cheap (the output path calls it for every
 * chunk): chunks are buffered and appended to their row by one statement per key, one write at a
 * time; get() waits for what is buffered. A deleted notebook takes its entries with it (cascade).
 */
export function createPostgresOverflowStore(db: Db, options: PostgresOverflowOptions): OverflowStore {
  const pending = new Map<string, Pending>();
  const known = new Map<string, Known>();
  let writing: Promise<void> | undefined;
  const onError = options.onError ?? ((error) => console.error('[kiln] saving cut-off output failed', error));
  const id = (notebookId: string, key: string) => `${notebookId}/${key}`;

  function schedule(): Promise<void> {
    writing ??= (async () => {
      // Whatever arrives while a batch is written goes in the next one.
      while (pending.size > 0) {
        const batch = [...pending.values()];
        pending.clear();
        for (const entry of batch) await write(entry).catch(onError);
        const notebooks = new Set(batch.map((entry) => entry.notebookId));
        for (const notebookId of notebooks) await trim(notebookId).catch(onError);
      }
    })().finally(() => {
      writing = undefined;
    });
    return writing;
  }

  async function write(entry: Pending): Promise<void> {
    const body = Buffer.from(entry.parts.join(entry.kind === 'stream' ? '' : ','), 'utf8');
    // Dropped outputs are JSON values joined by commas; a row that has some gets one before more.
    const separator = entry.kind === 'outputs' ? ',' : '';
    await db.$executeRaw`
      INSERT INTO "OutputOverflow" ("notebookId", "key", "cellId", "kind", "body", "totalBytes", "complete", "updatedAt")
      VALUES (${entry.notebookId}::uuid, ${entry.key}, ${entry.cellId}, ${entry.kind}, ${body},
              ${BigInt(entry.totalBytes)}, ${entry.complete}, now())
      ON CONFLICT ("notebookId", "key") DO UPDATE SET
        "body" = "OutputOverflow"."body"
          || CASE WHEN length("OutputOverflow"."body") > 0 AND length(EXCLUDED."body") > 0
               THEN convert_to(${separator}, 'UTF8') ELSE ''::bytea END
          || EXCLUDED."body",
        "totalBytes" = EXCLUDED."totalBytes",
        "complete" = "OutputOverflow"."complete" AND EXCLUDED."complete",
        "updatedAt" = now()`;
  }

  /** Keeps the newest entries of a notebook within maxNotebookBytes. */
  async function trim(notebookId: string): Promise<void> {
    await db.$executeRaw`
      DELETE FROM "OutputOverflow" WHERE "notebookId" = ${notebookId}::uuid AND "key" IN (
        SELECT "key" FROM (
          SELECT "key", sum(octet_length("body")) OVER (ORDER BY "updatedAt" DESC, "key") AS "kept"
          FROM "OutputOverflow" WHERE "notebookId" = ${notebookId}::uuid
        ) AS "running" WHERE "kept" > ${options.maxNotebookBytes})`;
  }

  return {
    put(notebookId, event) {
      const name = id(notebookId, event.key);
      if (!isUuid(notebookId)) return;
      const entry: Known = known.get(name) ?? { bytes: 0, complete: true, hasData: false };
      known.delete(name);
      known.set(name, entry);
      if (known.size > MAX_KNOWN) known.delete(known.keys().next().value as string);
      let part: string | undefined;
      if (event.kind === 'stream') part = event.text ?? '';
      // A cut rich output is recorded once; later puts for its key only update the total.
      else if (event.output && (event.kind === 'outputs' || !entry.hasData))
        part = JSON.stringify(event.output);
      const row = pending.get(name) ?? {
        notebookId,
        key: event.key,
        cellId: event.cellId,
        kind: event.kind,
        parts: [],
        totalBytes: 0,
        complete: true,
      };
      pending.set(name, row);
      row.totalBytes = event.totalBytes;
      if (part !== undefined && entry.complete) {
        const size = Buffer.byteLength(part) + (entry.bytes > 0 && event.kind === 'outputs' ? 1 : 0);
        if (entry.bytes + size > options.maxEntryBytes) entry.complete = false;
        else {
          row.parts.push(part);
          entry.bytes += size;
          entry.hasData = true;
        }
      }
      row.complete = entry.complete;
      void schedule();
    },
    async get(notebookId, key) {
      if (!isUuid(notebookId)) return undefined;
      if (pending.size > 0 || writing) await schedule();
      const [row] = await db.$queryRaw<Row[]>`
        SELECT "cellId", "kind", "body", "totalBytes", "complete" FROM "OutputOverflow"
        WHERE "notebookId" = ${notebookId}::uuid AND "key" = ${key}`;
      if (!row) return undefined;
      return overflowDownload(
        {
          key,
          notebookId,
          cellId: row.cellId,
          kind: row.kind as OverflowEvent['kind'],
          totalBytes: Number(row.totalBytes),
          complete: row.complete,
        },
        Buffer.from(row.body).toString('utf8'),
      );
    },
    async deleteNotebook(notebookId) {
      if (!isUuid(notebookId)) return;
      for (const [name, entry] of pending) if (entry.notebookId === notebookId) pending.delete(name);
      await db.outputOverflow.deleteMany({ where: { notebookId } });
    },
  };
}
