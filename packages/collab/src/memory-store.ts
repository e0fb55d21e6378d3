import type { DocumentStore, UpdateId } from './types.ts';

/** A DocumentStore in process memory: for tests and for a server whose documents may vanish on restart. */
export function createMemoryStore(): DocumentStore & { rowCount(name: string): number } {
  const documents = new Map<string, { id: UpdateId; data: Uint8Array }[]>();
  let nextId: UpdateId = 1n;
  const rowsOf = (name: string) => {
    let rows = documents.get(name);
    if (!rows) {
      rows = [];
      documents.set(name, rows);
    }
    return rows;
  };
  return {
    async load(name) {
      const rows = documents.get(name) ?? [];
      return { updates: rows.map((row) => row.data), lastId: rows.at(-1)?.id ?? null };
    },
    async append(name, updates) {
      const rows = rowsOf(name);
      // Copied so a caller reusing its buffer cannot change what was stored.
      for (const update of updates) rows.push({ id: nextId++, data: update.slice() });
      return nextId - 1n;
    },
    async compact(name, state, upToId, expectedRows) {
      const rows = rowsOf(name);
      const folded = rows.filter((row) => row.id <= upToId);
      if (expectedRows !== undefined && folded.length !== expectedRows) return null;
      const kept = rows.filter((row) => row.id > upToId);
      const id = nextId++;
      documents.set(name, [...kept, { id, data: state.slice() }]);
      return id;
    },
    rowCount(name) {
      return documents.get(name)?.length ?? 0;
    },
  };
}
