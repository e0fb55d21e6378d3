'use client';
import {
  ArrowDownToLine,
  ArrowUpToLine,
  ClipboardPaste,
  Command,
  Copy,
  FastForward,
  History,
  Keyboard,
  Play,
  Plus,
  Power,
  RotateCcw,
  Scissors,
  Search,
  Square,
  SquareTerminal,
  Trash2,
  Type,
} from 'lucide-react';
import type { NotebookCommand } from '../../lib/notebook/keyboard.ts';
import { IconButton } from '../ui/tooltip.tsx';
import type { KernelActions, RunSpec } from './use-kernel-actions.ts';

const UNAVAILABLE = 'Running code is not available on this server';
const ICON = { size: 16, strokeWidth: 1.8, 'aria-hidden': true } as const;

/** Panels and dialogs the toolbar opens; the page owns them. */
export type ToolbarPanel = 'find' | 'history' | 'palette' | 'shortcuts' | 'terminal';

/**
 * The notebook's one set of controls: cells, running, the kernel, and the panels. Icons with
 * tooltips (name and shortcut), each control once; a control that cannot act now is disabled and
 * its tooltip says why.
 */
export function NotebookToolbar(props: {
  actions: KernelActions;
  selectedCellId: string | null;
  selectedIndex: number;
  running: boolean;
  kernelStarted: boolean;
  terminalOpen: boolean;
  onCommand(command: NotebookCommand): void;
  onOpen(panel: ToolbarPanel): void;
}) {
  const { actions, selectedCellId } = props;
  const canRun = actions.available('run');
  const run = (spec: RunSpec | null) => spec && void actions.run(spec);
  return (
    <div className="nb-toolbar" role="toolbar" aria-label="Notebook actions">
      <div className="nb-toolbar-group">
        <IconButton
          label="Insert cell below"
          shortcut="B"
          icon={<Plus {...ICON} />}
          onClick={() => props.onCommand('insert-below')}
        />
        <IconButton
          label="Cut cell"
          shortcut="X"
          icon={<Scissors {...ICON} />}
          onClick={() => props.onCommand('cut')}
        />
        <IconButton
          label="Copy cell"
          shortcut="C"
          icon={<Copy {...ICON} />}
          onClick={() => props.onCommand('copy')}
        />
        <IconButton
          label="Paste cells below"
          shortcut="V"
          icon={<ClipboardPaste {...ICON} />}
          onClick={() => props.onCommand('paste-below')}
        />
        <IconButton
          label="Delete cell"
          shortcut="D, D"
          icon={<Trash2 {...ICON} />}
          onClick={() => props.onCommand('delete')}
        />
        <IconButton
          label="Change to markdown"
          shortcut="M"
          icon={<Type {...ICON} />}
          onClick={() => props.onCommand('to-markdown')}
        />
      </div>
      <div className="nb-toolbar-group">
        <IconButton
          label="Run cell"
          shortcut="Ctrl+Enter"
          icon={<Play {...ICON} />}
          disabled={!canRun || !selectedCellId}
          disabledReason={canRun ? 'Select a cell to run' : UNAVAILABLE}
          onClick={() => run(selectedCellId ? { cellIds: [selectedCellId] } : null)}
        />
        <IconButton
          label="Run all cells"
          icon={<FastForward {...ICON} />}
          disabled={!canRun}
          disabledReason={UNAVAILABLE}
          onClick={() => run({ mode: 'all' })}
        />
        <IconButton
          label="Run cells above"
          icon={<ArrowUpToLine {...ICON} />}
          disabled={!canRun || !selectedCellId}
          disabledReason={canRun ? 'Select a cell first' : UNAVAILABLE}
          onClick={() => run(selectedCellId ? { mode: 'above', cellId: selectedCellId } : null)}
        />
        <IconButton
          label="Run selected cell and below"
          icon={<ArrowDownToLine {...ICON} />}
          disabled={!canRun || !selectedCellId}
          disabledReason={canRun ? 'Select a cell first' : UNAVAILABLE}
          onClick={() => run(selectedCellId ? { mode: 'below', cellId: selectedCellId } : null)}
        />
      </div>
      <div className="nb-toolbar-group">
        <IconButton
          label="Interrupt kernel"
          shortcut="I, I"
          icon={<Square {...ICON} />}
          disabled={!actions.available('interrupt') || !props.running}
          disabledReason={actions.available('interrupt') ? 'Nothing is running' : UNAVAILABLE}
          onClick={() => void actions.interrupt()}
        />
        <IconButton
          label="Restart kernel"
          shortcut="0, 0"
          icon={<RotateCcw {...ICON} />}
          disabled={!actions.available('restart') || !props.kernelStarted}
          disabledReason={actions.available('restart') ? 'No kernel is running' : UNAVAILABLE}
          onClick={() => void actions.restart()}
        />
        <IconButton
          label="Shut down kernel"
          icon={<Power {...ICON} />}
          disabled={!actions.available('shutdownKernel') || !props.kernelStarted}
          disabledReason={actions.available('shutdownKernel') ? 'No kernel is running' : UNAVAILABLE}
          onClick={() => void actions.shutdown()}
        />
      </div>
      <div className="nb-toolbar-group nb-toolbar-end">
        <IconButton
          label="Find and replace"
          shortcut="Ctrl+F"
          icon={<Search {...ICON} />}
          onClick={() => props.onOpen('find')}
        />
        <IconButton label="History" icon={<History {...ICON} />} onClick={() => props.onOpen('history')} />
        <IconButton
          label="Terminal"
          icon={<SquareTerminal {...ICON} />}
          aria-pressed={props.terminalOpen}
          onClick={() => props.onOpen('terminal')}
        />
        <IconButton
          label="Keyboard shortcuts"
          shortcut="H"
          icon={<Keyboard {...ICON} />}
          onClick={() => props.onOpen('shortcuts')}
        />
        <IconButton
          label="Command palette"
          shortcut="Ctrl+Shift+P"
          icon={<Command {...ICON} />}
          onClick={() => props.onOpen('palette')}
        />
      </div>
    </div>
  );
}
