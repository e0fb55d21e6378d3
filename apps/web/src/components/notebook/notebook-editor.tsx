'use client';
import { moveCell, notebookParts, type YCell } from '@kiln/notebook';
import { type Ref, useCallback, useEffect, useImperativeHandle, useMemo, useRef, useState } from 'react';
import type { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import { commandForKey, type NotebookCommand, type NotebookMode } from '../../lib/notebook/keyboard.ts';
import { outputLines } from '../../lib/notebook/output-model.ts';
import { estimateCellHeight } from '../../lib/notebook/virtual-window.ts';
import { readCellClipboard, writeCellClipboard } from './cell-clipboard.ts';
import {
  addCell,
  changeCellType,
  copyCells,
  type DeletedCell,
  mergeCellBelow,
  pasteCells,
  removeCell,
  restoreCell,
} from './cell-ops.ts';
import { CellView } from './cell-view.tsx';
import type { Peer } from './presence.tsx';
import type { KernelActions } from './use-kernel-actions.ts';
import { useVirtualCells } from './use-virtual-cells.ts';
import { useCells, useExecutionView } from './use-y.ts';

/** Commands the page handles (kernel, checkpoints, dialogs), reached from the keyboard. */
export type PageCommand = Extract<
  NotebookCommand,
  'interrupt' | 'restart' | 'show-shortcuts' | 'save-checkpoint' | 'command-palette' | 'find'
>;
const PAGE_COMMANDS = new Set<NotebookCommand>([
  'interrupt',
  'restart',
  'show-shortcuts',
  'save-checkpoint',
  'command-palette',
  'find',
]);

/** What the page's toolbar and command palette can ask of the cells. */
export interface NotebookEditorHandle {
  command(command: NotebookCommand): void;
  selectedIndex(): number;
  selectedCellId(): string | null;
  /** Selects cell `index` in command mode and scrolls it into view. */
  select(index: number): void;
}

export interface NotebookEditorProps {
  doc: Y.Doc;
  provider: WebsocketProvider | null;
  notebookId: string;
  canEdit: boolean;
  peers: readonly Peer[];
  actions: KernelActions;
  onPageCommand(command: PageCommand): void;
  /** Called when the selection moves, so the toolbar can act on it. */
  onSelectionChange?(index: number, cellId: string | null): void;
  handle?: Ref<NotebookEditorHandle>;
}

const estimates = new WeakMap<YCell, number>();
function estimateFor(cell: YCell | undefined): number {
  if (!cell) return 60;
  const cached = estimates.get(cell);
  if (cached !== undefined) return cached;
  const source = cell.get('source');
  const lines = source instanceof Y.Text ? source.toString().split('\n').length : 1;
  const outputs = cell.get('outputs');
  const json = outputs instanceof Y.Array ? (outputs.toJSON() as never[]) : [];
  const { lines: outLines, images } = outputLines(json);
  const height = estimateCellHeight(lines, outLines, images > 0);
  estimates.set(cell, height);
  return height;
}

const isTyping = (target: EventTarget | null) =>
  target instanceof HTMLElement &&
  target.closest('input, textarea, select, .cell-editor, .xterm, dialog') !== null;

/** The cells of a notebook with Jupyter's command/edit keyboard model, drag to reorder and virtualised rendering. */
export function NotebookEditor({
  doc,
  provider,
  notebookId,
  canEdit,
  peers,
  actions,
  onPageCommand,
  onSelectionChange,
  handle,
}: NotebookEditorProps) {
  const cells = useCells(doc);
  const execution = useExecutionView(doc);
  const ids = useMemo(() => cells.map((cell) => String(cell.get('id'))), [cells]);
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const [mode, setMode] = useState<NotebookMode>('command');
  const pendingKey = useRef<string | null>(null);
  const deleted = useRef<DeletedCell[]>([]);
  const dragFrom = useRef<number | null>(null);
  const listRef = useRef<HTMLDivElement>(null);

  const selectedIndex = Math.max(0, selectedId ? ids.indexOf(selectedId) : 0);
  const selectedCellId = ids[selectedIndex] ?? null;

  useEffect(() => {
    provider?.awareness.setLocalStateField('cell', selectedCellId);
    onSelectionChange?.(selectedIndex, selectedCellId);
  }, [provider, selectedCellId, selectedIndex, onSelectionChange]);

  const estimate = useCallback((index: number) => estimateFor(cells[index]), [cells]);
  const { range, heightOf, measure } = useVirtualCells(listRef, ids, estimate);

  // Focus moves after React has committed the cells it refers to (a cell inserted by the same key
  // press does not exist yet when the handler runs), hence a request state and an effect.
  const [focusRequest, setFocusRequest] = useState<{ index: number; tick: number } | null>(null);
  const focusCell = useCallback((index: number) => {
    setFocusRequest((current) => ({ index, tick: (current?.tick ?? 0) + 1 }));
  }, []);
  useEffect(() => {
    if (!focusRequest) return;
    let frame = 0;
    let tries = 0;
    const attempt = () => {
      const list = listRef.current;
      const slot = list?.querySelector<HTMLElement>(`[data-cell-index="${focusRequest.index}"]`);
      slot?.scrollIntoView({ block: 'nearest' });
      const cell = slot?.querySelector<HTMLElement>(':scope > .cell');
      // A placeholder becomes a cell once the scroll above brings it into the rendered window.
      if (cell) cell.focus({ preventScroll: true });
      else if (tries++ < 5) frame = requestAnimationFrame(attempt);
    };
    attempt();
    return () => cancelAnimationFrame(frame);
  }, [focusRequest]);

  const select = useCallback(
    (index: number, edit: boolean) => {
      const clamped = Math.max(0, Math.min(index, ids.length - 1));
      setSelectedId(ids[clamped] ?? null);
      setMode(edit && canEdit ? 'edit' : 'command');
      if (!edit) focusCell(clamped);
    },
    [ids, canEdit, focusCell],
  );

  const run = useCallback(
    (index: number) => {
      const cell = cells[index];
      if (!cell || !canEdit) return;
      if (cell.get('cell_type') === 'code') void actions.run({ cellIds: [String(cell.get('id'))] });
    },
    [cells, canEdit, actions],
  );

  const onCommand = useCallback(
    (command: NotebookCommand, index: number) => {
      const count = ids.length;
      const insertAt = (at: number, type: 'code' | 'markdown' = 'code') => {
        const id = addCell(doc, at, type);
        setSelectedId(id);
        return id;
      };
      if (PAGE_COMMANDS.has(command)) {
        onPageCommand(command as PageCommand);
        return;
      }
      switch (command) {
        case 'enter-edit':
          if (canEdit) setMode('edit');
          return;
        case 'copy':
          writeCellClipboard(copyCells(doc, [index]));
          return;
        case 'enter-command':
          setMode('command');
          focusCell(index);
          return;
        case 'select-previous':
          select(index - 1, false);
          return;
        case 'select-next':
          select(index + 1, false);
          return;
      }
      if (!canEdit) return;
      switch (command) {
        case 'run':
          run(index);
          setMode('command');
          focusCell(index);
          return;
        case 'run-select-next':
          run(index);
          // As in Jupyter: past the last cell a new one appears, ready to type into.
          if (index + 1 >= count) {
            insertAt(count);
            setMode('edit');
            return;
          }
          setSelectedId(ids[index + 1] ?? null);
          setMode('command');
          focusCell(index + 1);
          return;
        case 'run-insert-below':
          run(index);
          insertAt(index + 1);
          setMode('edit');
          return;
        case 'insert-above':
          insertAt(index);
          focusCell(index);
          return;
        case 'insert-below':
          insertAt(index + 1);
          focusCell(index + 1);
          return;
        case 'delete': {
          const removed = removeCell(doc, index);
          if (removed) deleted.current.push(removed);
          if (count <= 1) addCell(doc, 0);
          const next = Math.min(index, Math.max(0, count - 2));
          setSelectedId(notebookParts(doc).cells.get(next)?.get('id') as string);
          focusCell(next);
          return;
        }
        case 'undo-delete': {
          const last = deleted.current.pop();
          if (last) {
            const at = restoreCell(doc, last);
            setSelectedId(notebookParts(doc).cells.get(at)?.get('id') as string);
            focusCell(at);
          }
          return;
        }
        case 'cut': {
          writeCellClipboard(copyCells(doc, [index]));
          const removed = removeCell(doc, index);
          if (removed) deleted.current.push(removed);
          if (count <= 1) addCell(doc, 0);
          const next = Math.min(index, Math.max(0, count - 2));
          setSelectedId(notebookParts(doc).cells.get(next)?.get('id') as string);
          focusCell(next);
          return;
        }
        case 'paste-below':
        case 'paste-above': {
          const copied = readCellClipboard();
          if (copied.length === 0) return;
          const at = command === 'paste-below' ? index + 1 : index;
          const first = pasteCells(doc, at, copied);
          if (first) setSelectedId(first);
          focusCell(at);
          return;
        }
        case 'merge-below':
          if (mergeCellBelow(doc, index)) focusCell(index);
          return;
        case 'to-code':
        case 'to-markdown':
          changeCellType(doc, index, command === 'to-code' ? 'code' : 'markdown');
          focusCell(index);
          return;
      }
    },
    [ids, doc, canEdit, run, select, focusCell, onPageCommand],
  );

  const selectedRef = useRef({ index: selectedIndex, id: selectedCellId });
  selectedRef.current = { index: selectedIndex, id: selectedCellId };
  useImperativeHandle(
    handle,
    () => ({
      command: (command) => onCommand(command, selectedRef.current.index),
      selectedIndex: () => selectedRef.current.index,
      selectedCellId: () => selectedRef.current.id,
      select: (index) => select(index, false),
    }),
    [onCommand, select],
  );

  const onKeyDown = (event: React.KeyboardEvent) => {
    if (mode === 'edit' || isTyping(event.target)) return;
    const result = commandForKey(event.nativeEvent, 'command', pendingKey.current);
    pendingKey.current = result.pending;
    if (!result.command) return;
    event.preventDefault();
    onCommand(result.command, selectedIndex);
  };

  const onDrop = useCallback(
    (to: number) => {
      const from = dragFrom.current;
      dragFrom.current = null;
      if (from === null || from === to || !canEdit) return;
      moveCell(doc, from, to);
      setSelectedId(ids[from] ?? null);
    },
    [doc, ids, canEdit],
  );

  const onAnswer = useCallback((value: string) => actions.answerInput(value), [actions]);
  const onDragStart = useCallback((index: number) => {
    dragFrom.current = index;
  }, []);

  const slots = [];
  for (let i = 0; i < cells.length; i++) {
    const cell = cells[i] as YCell;
    const id = ids[i] as string;
    const isSelected = i === selectedIndex;
    const isEditing = isSelected && mode === 'edit';
    // The cell being edited stays mounted so scrolling away never takes the caret from the user.
    if ((i < range.start || i >= range.end) && !isEditing) {
      slots.push(
        <section
          key={id}
          aria-label={`Cell ${i + 1}`}
          className="cell-slot cell-placeholder"
          data-cell-index={i}
          style={{ height: heightOf(i) }}
        />,
      );
      continue;
    }
    slots.push(
      <div key={id} className="cell-slot" data-cell-id={id} data-cell-index={i} ref={measure}>
        <CellView
          cell={cell}
          index={i}
          notebookId={notebookId}
          awareness={provider?.awareness ?? null}
          selected={isSelected}
          editing={isEditing}
          canEdit={canEdit}
          execution={execution}
          peers={peers}
          onSelect={select}
          onCommand={onCommand}
          onRun={run}
          onAnswerInput={onAnswer}
          onDragStart={onDragStart}
          onDrop={onDrop}
        />
      </div>,
    );
  }

  return (
    <>
      {/* biome-ignore lint/a11y/noStaticElementInteractions: the notebook's command-mode shortcuts act on its cells. */}
      <div ref={listRef} className="cells" onKeyDown={onKeyDown}>
        {slots}
        {canEdit ? (
          <div className="cells-end">
            <button
              type="button"
              className="btn btn-small"
              onClick={() => onCommand('insert-below', cells.length - 1)}
            >
              + Code
            </button>
            <button
              type="button"
              className="btn btn-small"
              onClick={() => {
                setSelectedId(addCell(doc, cells.length, 'markdown'));
                setMode('edit');
              }}
            >
              + Markdown
            </button>
          </div>
        ) : null}
      </div>
    </>
  );
}
