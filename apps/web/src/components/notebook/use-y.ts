'use client';
import {
  type CellRunInfo,
  getCellMetadata,
  getCellOutputs,
  notebookParts,
  type OutputJson,
  readRunInfo,
  type YCell,
} from '@kiln/notebook';
import { useCallback, useRef, useSyncExternalStore } from 'react';
import * as Y from 'yjs';
import { type ExecutionView, parseExecutionView } from '../../lib/notebook/execution-view.ts';

/**
 * Subscribes to a Yjs type and re-renders with `read()` whenever it (or anything inside it, if deep)
 * changes; with `key`, only when that key of a map changes.
 */
function useYSnapshot<T>(
  type: Y.AbstractType<unknown> | null,
  read: () => T,
  deep: boolean,
  key?: string,
): T {
  const cache = useRef<{ type: unknown; version: number; value: T } | null>(null);
  const version = useRef(0);
  const subscribe = useCallback(
    (notify: () => void) => {
      if (!type) return () => {};
      const handler = (event: unknown) => {
        if (key !== undefined && event instanceof Y.YMapEvent && !event.keysChanged.has(key)) return;
        version.current++;
        notify();
      };
      if (deep) type.observeDeep(handler);
      else type.observe(handler);
      return () => (deep ? type.unobserveDeep(handler) : type.unobserve(handler));
    },
    [type, deep, key],
  );
  const snapshot = () => {
    const current = cache.current;
    if (current && current.type === type && current.version === version.current) return current.value;
    const value = read();
    cache.current = { type, version: version.current, value };
    return value;
  };
  return useSyncExternalStore(subscribe, snapshot, snapshot);
}

/** The notebook's cells, as Y.Maps, in order. */
export function useCells(doc: Y.Doc): YCell[] {
  const { cells } = notebookParts(doc);
  return useYSnapshot(cells as unknown as Y.AbstractType<unknown>, () => cells.toArray(), false);
}

/** One top-level key of a cell (`cell_type`, `execution_count`, `execution_state`...). */
export function useCellValue<T>(cell: YCell, key: string): T | undefined {
  return useYSnapshot(
    cell as unknown as Y.AbstractType<unknown>,
    () => cell.get(key) as T | undefined,
    false,
  );
}

/** A Y.Text's current string. */
export function useText(text: Y.Text | null): string {
  return useYSnapshot(text as unknown as Y.AbstractType<unknown> | null, () => text?.toString() ?? '', false);
}

/** A code cell's outputs as nbformat JSON, re-read whenever any output changes (streams grow in place). */
export function useOutputs(cell: YCell): OutputJson[] {
  const outputs = useCellValue<Y.Array<unknown>>(cell, 'outputs');
  return useYSnapshot(
    outputs instanceof Y.Array ? (outputs as unknown as Y.AbstractType<unknown>) : null,
    () => getCellOutputs(cell),
    true,
  );
}

/** A code cell's last run (duration and cost) from its metadata, re-read when the metadata changes. */
export function useCellRunInfo(cell: YCell): CellRunInfo | null {
  const metadata = useCellValue<unknown>(cell, 'metadata');
  return useYSnapshot(
    metadata instanceof Y.Map ? (metadata as unknown as Y.AbstractType<unknown>) : null,
    () => readRunInfo(getCellMetadata(cell)),
    true,
  );
}

/** The shared execution state (kernel, running cell, queue, pending input). */
export function useExecutionView(doc: Y.Doc): ExecutionView {
  const { state } = notebookParts(doc);
  return useYSnapshot(
    state as unknown as Y.AbstractType<unknown>,
    () => parseExecutionView(state.get('execution')),
    false,
    // Not on every kernel message's mark (`kernelMessage`), which the server writes beside it.
    'execution',
  );
}
