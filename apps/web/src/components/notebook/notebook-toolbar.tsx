'use client';
import type { NotebookCommand } from '../../lib/notebook/keyboard.ts';
import type { KernelActions, RunSpec } from './use-kernel-actions.ts';

const UNAVAILABLE = 'Running code is not available on this server';

/** Cell and run actions for editors; buttons the server cannot serve are disabled with the reason. */
export function NotebookToolbar(props: {
  actions: KernelActions;
  selectedCellId: string | null;
  selectedIndex: number;
  running: boolean;
  onCommand(command: NotebookCommand, index: number): void;
}) {
  const { actions, selectedCellId, selectedIndex } = props;
  const canRun = actions.available('run');
  const runButton = (label: string, spec: RunSpec | null, shortcut?: string) => (
    <button
      type="button"
      className="btn btn-small"
      disabled={!canRun || spec === null}
      title={canRun ? (shortcut ? `${label} (${shortcut})` : label) : UNAVAILABLE}
      onClick={() => spec && void actions.run(spec)}
    >
      {label}
    </button>
  );
  return (
    <div className="nb-toolbar" role="toolbar" aria-label="Notebook actions">
      <button
        type="button"
        className="btn btn-small"
        title="Insert cell below (B)"
        onClick={() => props.onCommand('insert-below', selectedIndex)}
      >
        Insert cell
      </button>
      <button
        type="button"
        className="btn btn-small"
        title="Delete cell (D, D)"
        onClick={() => props.onCommand('delete', selectedIndex)}
      >
        Delete cell
      </button>
      <span className="nb-toolbar-sep" />
      {runButton('Run cell', selectedCellId ? { cellIds: [selectedCellId] } : null, 'Ctrl+Enter')}
      {runButton('Run all', { mode: 'all' })}
      {runButton('Run above', selectedCellId ? { mode: 'above', cellId: selectedCellId } : null)}
      {runButton('Run below', selectedCellId ? { mode: 'below', cellId: selectedCellId } : null)}
      <span className="nb-toolbar-sep" />
      <button
        type="button"
        className="btn btn-small"
        disabled={!actions.available('interrupt') || !props.running}
        title={
          actions.available('interrupt')
            ? 'Interrupt the kernel (stops the running cell, clears the queue)'
            : UNAVAILABLE
        }
        onClick={() => void actions.interrupt()}
      >
        Interrupt
      </button>
      <button
        type="button"
        className="btn btn-small"
        disabled={!actions.available('restart')}
        title={actions.available('restart') ? 'Restart the kernel (variables are lost)' : UNAVAILABLE}
        onClick={() => void actions.restart()}
      >
        Restart
      </button>
    </div>
  );
}
