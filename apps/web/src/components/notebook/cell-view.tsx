'use client';
import type { YCell } from '@kiln/notebook';
import dynamic from 'next/dynamic';
import { memo, type ReactNode, useEffect, useMemo, useState } from 'react';
import type { Awareness } from 'y-protocols/awareness';
import * as Y from 'yjs';
import { formatMicros } from '../../lib/money.ts';
import { type ExecutionView, formatElapsed } from '../../lib/notebook/execution-view.ts';
import type { NotebookCommand } from '../../lib/notebook/keyboard.ts';
import { LONG_OUTPUT_LINES, outputLines } from '../../lib/notebook/output-model.ts';
import { loadRichText, useRichText } from '../../lib/notebook/rich-text.tsx';
import { DeployCellButton } from '../endpoints/deploy-cell-button.tsx';
import { whenIdle } from './idle-queue.ts';
import { OutputItem } from './output-view.tsx';
import type { Peer } from './presence.tsx';
import { StaticCode } from './static-code.tsx';
import { StdinPrompt } from './stdin-prompt.tsx';
import { useCellRunInfo, useCellValue, useOutputs, useText } from './use-y.ts';

// Monaco touches `window` when it loads, so it is only ever loaded in the browser.
// The static code stays on screen while it loads, so there is no loading placeholder.
const CellEditor = dynamic(() => import('./cell-editor.tsx'), { ssr: false, loading: () => null });

/**
 * Starts loading the editor (Monaco, the page's largest script) now: without it the download begins
 * only when the first cell asks for its editor, after hydration and an idle moment, so the first
 * editor waited for the page to settle and then for the download.
 */
export function preloadCellEditor(): void {
  void import('./cell-editor.tsx');
}

export interface CellViewProps {
  cell: YCell;
  index: number;
  notebookId: string;
  awareness: Awareness | null;
  selected: boolean;
  editing: boolean;
  canEdit: boolean;
  execution: ExecutionView;
  peers: readonly Peer[];
  onSelect(index: number, edit: boolean): void;
  onCommand(command: NotebookCommand, index: number): void;
  onRun(index: number): void;
  onAnswerInput(value: string): Promise<boolean>;
  onDragStart(index: number): void;
  onDrop(index: number): void;
}

/** Re-renders every second while `active`, for elapsed-time displays. */
function useNow(active: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [active]);
  return now;
}

function RunState({ cell, cellId, execution }: { cell: YCell; cellId: string; execution: ExecutionView }) {
  const last = useCellRunInfo(cell);
  const running = execution.running?.cellId === cellId ? execution.running : null;
  const queuedAt = execution.queue.findIndex((q) => q.cellId === cellId);
  const now = useNow(running !== null);
  if (running) {
    return (
      <span className="cell-run-state running" role="status">
        Running · {running.by.name} · {formatElapsed(now - running.startedAt)}
      </span>
    );
  }
  if (queuedAt >= 0) {
    const queued = execution.queue[queuedAt];
    return (
      <span className="cell-run-state queued" role="status">
        Queued #{queuedAt + 1} · {queued?.by.name}
      </span>
    );
  }
  if (last?.durationMs == null) return null;
  return (
    <span
      className="cell-run-state"
      data-testid="cell-run-cost"
      title={
        last.ratePerHourMicros == null
          ? 'How long the last run took'
          : `How long the last run took, and what the kernel's machine cost meanwhile (${formatMicros(last.ratePerHourMicros)}/h)`
      }
    >
      Ran {formatElapsed(last.durationMs)}
      {last.costMicros == null ? null : ` · ${formatMicros(last.costMicros, { precise: true })}`}
    </span>
  );
}

function Outputs({
  cell,
  index,
  notebookId,
  children,
}: {
  cell: YCell;
  index: number;
  notebookId: string;
  children?: ReactNode;
}) {
  const outputs = useOutputs(cell);
  const [collapsed, setCollapsed] = useState(false);
  const long = useMemo(() => outputLines(outputs).lines > LONG_OUTPUT_LINES, [outputs]);
  const [scrolled, setScrolled] = useState<boolean | null>(null);
  const scroll = scrolled ?? long;
  if (outputs.length === 0 && !children) return null;
  return (
    <div className="cell-outputs-wrap">
      <div className="cell-output-tools">
        <button
          type="button"
          className="btn-link"
          onClick={() => setCollapsed(!collapsed)}
          aria-expanded={!collapsed}
        >
          {collapsed ? 'Show output' : 'Hide output'}
        </button>
        {long && !collapsed ? (
          <button type="button" className="btn-link" onClick={() => setScrolled(!scroll)}>
            {scroll ? 'Show all output' : 'Scroll output'}
          </button>
        ) : null}
      </div>
      {collapsed ? (
        <div className="cell-outputs-collapsed muted">Output hidden ({outputs.length})</div>
      ) : (
        <section
          className={`cell-outputs${scroll ? ' scrolled' : ''}`}
          aria-label={`Output of cell ${index + 1}`}
        >
          {outputs.map((output, i) => (
            // Outputs have no ids; position is their identity within one cell.
            // biome-ignore lint/suspicious/noArrayIndexKey: see above
            <OutputItem key={i} output={output} notebookId={notebookId} />
          ))}
          {children}
        </section>
      )}
    </div>
  );
}

/** The source as highlighted text, shown until the cell's editor has drawn (same metrics, so nothing jumps). */
function StaticSource({
  source,
  language,
  onActivate,
}: {
  source: Y.Text;
  language: 'python' | 'markdown';
  onActivate?: () => void;
}) {
  const text = useText(source);
  return (
    // biome-ignore lint/a11y/noStaticElementInteractions: a click mounts the real editor, which takes the keyboard.
    <div className="cell-editor cell-static" onMouseDown={onActivate}>
      <StaticCode text={text} language={language} />
    </div>
  );
}

/** True once the browser had an idle moment after the cell appeared (or right away when asked). */
function useLiveEditor(now: boolean): [boolean, () => void] {
  const [live, setLive] = useState(now);
  useEffect(() => {
    if (live) return;
    if (now) {
      setLive(true);
      return;
    }
    return whenIdle(() => setLive(true));
  }, [live, now]);
  return [live, () => setLive(true)];
}

function MarkdownPreview({ source, onEdit, canEdit }: { source: Y.Text; onEdit(): void; canEdit: boolean }) {
  const text = useText(source);
  const html = useRichText('markdown', text);
  if (!text.trim()) {
    return (
      // biome-ignore lint/a11y/noStaticElementInteractions: double-click to edit, as in Jupyter; Enter does the same.
      <div className="markdown markdown-empty muted" onDoubleClick={canEdit ? onEdit : undefined}>
        {canEdit ? 'Empty markdown cell. Double-click or press Enter to edit.' : 'Empty markdown cell.'}
      </div>
    );
  }
  if (html === null) {
    // Until the renderer has loaded: the source as text, in the rendered cell's box.
    return (
      // biome-ignore lint/a11y/noStaticElementInteractions: double-click to edit, as in Jupyter; Enter does the same.
      <div className="markdown markdown-source" onDoubleClick={canEdit ? onEdit : undefined}>
        {text}
      </div>
    );
  }
  return (
    // biome-ignore lint/a11y/noStaticElementInteractions: double-click to edit, as in Jupyter; Enter does the same.
    <div
      className="markdown"
      onDoubleClick={canEdit ? onEdit : undefined}
      // biome-ignore lint/security/noDangerouslySetInnerHtml: the server's and the browser's renders are sanitised.
      dangerouslySetInnerHTML={{ __html: html }}
    />
  );
}

/**
 * The cell's source: highlighted static code, replaced by a Monaco editor once one has drawn at the
 * same size. Viewers keep the static code (no editor, so no caret).
 */
function EditableSource(props: {
  source: Y.Text;
  awareness: Awareness | null;
  language: 'python' | 'markdown';
  live: boolean;
  canEdit: boolean;
  editing: boolean;
  label: string;
  onActivate(): void;
  onCommand(command: NotebookCommand): void;
  onFocus(): void;
}) {
  const [ready, setReady] = useState(false);
  const mounted = props.live && props.canEdit;
  return (
    <div className="cell-source">
      {mounted ? (
        <div className={ready ? 'cell-editor-live' : 'cell-editor-pending'}>
          <CellEditor
            source={props.source}
            awareness={props.awareness}
            language={props.language}
            readOnly={!props.canEdit}
            autoFocus={props.editing}
            label={props.label}
            onCommand={props.onCommand}
            onFocus={props.onFocus}
            onReady={() => setReady(true)}
          />
        </div>
      ) : null}
      {!ready || !mounted ? (
        <StaticSource
          source={props.source}
          language={props.language}
          onActivate={props.canEdit ? props.onActivate : undefined}
        />
      ) : null}
    </div>
  );
}

/** One cell: prompt, editor (or rendered markdown), run state and outputs. */
export const CellView = memo(function CellView(props: CellViewProps) {
  const { cell, index, canEdit, execution, selected, editing } = props;
  const type = useCellValue<string>(cell, 'cell_type') ?? 'code';
  const count = useCellValue<number | null>(cell, 'execution_count');
  const id = useCellValue<string>(cell, 'id') ?? '';
  const source = useCellValue<Y.Text>(cell, 'source');
  const isCode = type === 'code';
  const running = execution.running?.cellId === id;
  const queued = execution.queue.some((q) => q.cellId === id);
  const prompt = running ? '*' : queued ? '-' : (count ?? ' ');
  const here = props.peers.filter((peer) => !peer.self && peer.cellId === id);
  const showEditor = isCode || (editing && canEdit);
  const waitingInput = execution.input?.cellId === id ? execution.input : null;
  // The selected cell (the first, on open) gets its editor at once: it is where typing goes, so it
  // must not wait behind an idle moment of a page that is still busy opening. The rest follow when idle.
  const [live, activate] = useLiveEditor(selected && canEdit);
  // A markdown cell being edited is rendered by the browser when editing ends: have the renderer ready.
  const editingMarkdown = !isCode && editing && canEdit;
  useEffect(() => {
    if (editingMarkdown) loadRichText().catch(() => undefined);
  }, [editingMarkdown]);

  return (
    <section
      aria-label={`Cell ${index + 1}`}
      data-cell-id={id}
      data-cell-type={type}
      tabIndex={-1}
      className={`cell${selected ? ' selected' : ''}${editing ? ' editing' : ''}${running ? ' running' : ''}`}
      onMouseDown={(event) => {
        const inEditor = (event.target as HTMLElement).closest('.cell-editor');
        if (!selected || (!inEditor && editing)) props.onSelect(index, Boolean(inEditor));
      }}
      onDragOver={(event) => {
        if (event.dataTransfer.types.includes('application/x-kiln-cell')) event.preventDefault();
      }}
      onDrop={(event) => {
        event.preventDefault();
        props.onDrop(index);
      }}
    >
      <div className="cell-gutter">
        {canEdit ? (
          <button
            type="button"
            className="cell-drag"
            draggable
            tabIndex={-1}
            aria-label={`Drag cell ${index + 1} to reorder`}
            title="Drag to reorder"
            onDragStart={(event) => {
              event.dataTransfer.setData('application/x-kiln-cell', String(index));
              event.dataTransfer.effectAllowed = 'move';
              props.onDragStart(index);
            }}
          >
            ⋮⋮
          </button>
        ) : null}
        {isCode ? <span className="cell-prompt">[{prompt}]:</span> : null}
        {isCode && canEdit ? (
          // One row: the deploy button appears once the cell's text is live, and must not make the
          // gutter (and so the cell) taller than the server-rendered one.
          <span className="cell-gutter-actions">
            <button
              type="button"
              className="cell-run"
              aria-label={`Run cell ${index + 1}`}
              title="Run cell (Ctrl+Enter)"
              onClick={() => props.onRun(index)}
            >
              ▶
            </button>
            {source instanceof Y.Text ? (
              <DeployCellButton source={source} notebookId={props.notebookId} index={index} />
            ) : null}
          </span>
        ) : null}
        {here.length > 0 ? (
          <ul className="cell-peers" aria-label={`Also here: ${here.map((p) => p.name).join(', ')}`}>
            {here.map((peer) => (
              <li
                key={peer.clientId}
                className="cell-peer"
                title={peer.name}
                style={{ borderColor: peer.color, color: peer.color }}
              >
                {peer.name}
              </li>
            ))}
          </ul>
        ) : null}
      </div>
      <div className="cell-body">
        {source instanceof Y.Text ? (
          showEditor ? (
            <EditableSource
              source={source}
              awareness={props.awareness}
              language={isCode ? 'python' : 'markdown'}
              live={live}
              canEdit={canEdit}
              editing={editing}
              label={`Cell ${index + 1} ${isCode ? 'code' : 'markdown'}`}
              onActivate={() => {
                activate();
                props.onSelect(index, true);
              }}
              onCommand={(command) => props.onCommand(command, index)}
              onFocus={() => props.onSelect(index, true)}
            />
          ) : (
            <MarkdownPreview source={source} canEdit={canEdit} onEdit={() => props.onSelect(index, true)} />
          )
        ) : null}
        {isCode ? <RunState cell={cell} cellId={id} execution={execution} /> : null}
        {isCode ? (
          <Outputs cell={cell} index={index} notebookId={props.notebookId}>
            {waitingInput ? (
              <StdinPrompt
                prompt={waitingInput.prompt}
                password={waitingInput.password}
                disabled={!canEdit}
                onSubmit={props.onAnswerInput}
              />
            ) : null}
          </Outputs>
        ) : null}
      </div>
    </section>
  );
});
