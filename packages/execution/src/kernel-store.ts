import type { KernelRecord, KernelStore } from './types.ts';

/** Kernel records in memory: for tests, and for a process that shares them only with its own later self. */
export function createMemoryKernelStore(): KernelStore & { readonly records: Map<string, KernelRecord> } {
  const records = new Map<string, KernelRecord>();
  const copy = (record: KernelRecord): KernelRecord => structuredClone(record);
  return {
    records,
    async save(record) {
      records.set(record.notebookId, copy(record));
    },
    async remove(notebookId) {
      records.delete(notebookId);
    },
    async list() {
      return [...records.values()].map(copy);
    },
  };
}
