'use client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Eye } from 'lucide-react';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { WebsocketProvider } from 'y-websocket';
import type * as Y from 'yjs';
import { errorMessage } from '../../lib/errors.ts';
import { SHORTCUTS } from '../../lib/notebook/keyboard.ts';
import { useTRPC } from '../../lib/trpc.ts';
import { useIde } from '../ide/ide-context.tsx';
import { KernelCost } from '../usage/kernel-cost.tsx';
import { CommandPalette, type PaletteAction } from './command-palette.tsx';
import { FindBar } from './find-bar.tsx';
import { KernelBar, type NotebookResources } from './kernel-bar.tsx';
import { NotebookEditor, type NotebookEditorHandle, type PageCommand } from './notebook-editor.tsx';
import { NotebookToolbar, type ToolbarPanel } from './notebook-toolbar.tsx';
import type { Peer } from './presence.tsx';
import { ShortcutsDialog } from './shortcuts-dialog.tsx';
import type { KernelActions } from './use-kernel-actions.ts';
import type { ConnectionStatus } from './use-notebook-session.ts';
import { useExecutionView } from './use-y.ts';
import { VersionsDialog } from './versions-dialog.tsx';

const KEY_OF = new Map(SHORTCUTS.map((shortcut) => [shortcut.command, shortcut.keys]));

function checkpointName(now = new Date()): string {
  return `Checkpoint ${now.toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' })}`;
}

export interface WorkbenchProps {
  doc: Y.Doc;
  provider: WebsocketProvider | null;
  workspaceId: string;
  notebookId: string;
  notebookName: string;
  canEdit: boolean;
  /** True while the page shows the server's snapshot and the live connection is not synced yet. */
  preview: boolean;
  connection: ConnectionStatus;
  synced: boolean;
  /** Every local edit is acknowledged as stored by the server. */
  saved: boolean;
  actions: KernelActions;
  peers: readonly Peer[];
  resources: NotebookResources | null;
  onResourcesSaved(): void;
  onNotice(notice: { kind: 'error' | 'success'; text: string }): void;
}

/**
 * The live notebook: kernel status, the one toolbar, find and replace, the cells, and the dialogs
 * the keyboard reaches (palette, shortcuts, history). The terminal opens in the shell's bottom panel.
 */
export function NotebookWorkbench(props: WorkbenchProps) {
  const { doc, actions, canEdit, workspaceId, notebookId } = props;
  const ide = useIde();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const execution = useExecutionView(doc);
  const editor = useRef<NotebookEditorHandle>(null);
  const [selection, setSelection] = useState<{ index: number; id: string | null }>({ index: 0, id: null });
  const [panel, setPanel] = useState<Exclude<ToolbarPanel, 'terminal'> | null>(null);
  const running = execution.running !== null || execution.queue.length > 0;
  const kernelStarted = execution.kernel.status !== 'none' && execution.kernel.status !== 'dead';
  const terminalOpen = Boolean(ide?.terminals.some((tab) => tab.notebookId === notebookId));

  const checkpoint = useMutation(
    trpc.version.save.mutationOptions({
      onSuccess: async (version) => {
        props.onNotice({ kind: 'success', text: `Saved checkpoint “${version.name}”.` });
        await queryClient.invalidateQueries({
          queryKey: trpc.version.list.queryKey({ workspaceId, notebookId }),
        });
      },
      onError: (error) => props.onNotice({ kind: 'error', text: errorMessage(error) }),
    }),
  );

  const openPanel = useCallback(
    (which: ToolbarPanel) => {
      if (which !== 'terminal') {
        setPanel(which);
        return;
      }
      if (!ide) return;
      const existing = ide.terminals.find((tab) => tab.notebookId === notebookId);
      if (existing) ide.showBottom(ide.bottomTab === existing.id ? null : existing.id);
      else ide.openTerminal({ notebookId, kernelId: execution.kernel.kernelId });
    },
    [ide, notebookId, execution.kernel.kernelId],
  );

  const onPageCommand = useCallback(
    (command: PageCommand) => {
      switch (command) {
        case 'interrupt':
          if (canEdit && running) void actions.interrupt();
          return;
        case 'restart':
          if (canEdit) void actions.restart();
          return;
        case 'save-checkpoint':
          if (canEdit && !checkpoint.isPending)
            checkpoint.mutate({ workspaceId, notebookId, name: checkpointName() });
          return;
        case 'show-shortcuts':
          setPanel('shortcuts');
          return;
        case 'command-palette':
          setPanel('palette');
          return;
        case 'find':
          setPanel('find');
          return;
      }
    },
    [actions, canEdit, running, checkpoint, workspaceId, notebookId],
  );

  // Ctrl+S, Ctrl+Shift+P and Ctrl+F anywhere on the page, not only in a cell (Ctrl+S must never
  // open the browser's "Save page as").
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.defaultPrevented || !(event.ctrlKey || event.metaKey) || event.altKey) return;
      const key = event.key.toLowerCase();
      const command: PageCommand | null =
        key === 's' && !event.shiftKey
          ? 'save-checkpoint'
          : key === 'p' && event.shiftKey
            ? 'command-palette'
            : key === 'f' && !event.shiftKey
              ? 'find'
              : null;
      if (!command) return;
      if (document.querySelector('[role="dialog"]') && command !== 'save-checkpoint') return;
      event.preventDefault();
      onPageCommand(command);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onPageCommand]);

  // The kernel's story in the shell's log: status changes and runs as this tab saw them.
  const lastStatus = useRef(execution.kernel.status);
  const addLog = ide?.addLog;
  useEffect(() => {
    const status = execution.kernel.status;
    if (status === lastStatus.current) return;
    lastStatus.current = status;
    const reason = status === 'dead' && execution.kernel.reason ? `: ${execution.kernel.reason}` : '';
    addLog?.({ notebook: props.notebookName, text: `kernel ${status}${reason}` });
  }, [execution.kernel.status, execution.kernel.reason, addLog, props.notebookName]);

  const reveal = useCallback((index: number) => editor.current?.select(index), []);
  const onSelectionChange = useCallback(
    (index: number, id: string | null) => setSelection({ index, id }),
    [],
  );
  const setActive = ide?.setActive;
  useEffect(() => {
    setActive?.({ id: notebookId, name: props.notebookName, doc, reveal });
    return () => setActive?.(null);
  }, [setActive, notebookId, props.notebookName, doc, reveal]);

  const cellCommand = (command: Parameters<NotebookEditorHandle['command']>[0]) =>
    editor.current?.command(command);
  const paletteActions = useMemo<PaletteAction[]>(() => {
    const cell = (id: Parameters<NotebookEditorHandle['command']>[0], label: string, group = 'Cell') => ({
      id,
      label,
      group,
      keys: KEY_OF.get(id),
      disabled: !canEdit && !['select-previous', 'select-next', 'copy'].includes(id),
      run: () => editor.current?.command(id),
    });
    const runSpec = (id: string, label: string, spec: () => Parameters<KernelActions['run']>[0] | null) => ({
      id,
      label,
      group: 'Run',
      disabled: !canEdit,
      run: () => {
        const value = spec();
        if (value) void actions.run(value);
      },
    });
    const selected = () => editor.current?.selectedCellId() ?? null;
    return [
      runSpec('run-cell', 'Run selected cell', () =>
        selected() ? { cellIds: [selected() as string] } : null,
      ),
      runSpec('run-all', 'Run all cells', () => ({ mode: 'all' })),
      runSpec('run-above', 'Run cells above', () =>
        selected() ? { mode: 'above', cellId: selected() as string } : null,
      ),
      runSpec('run-below', 'Run selected cell and below', () =>
        selected() ? { mode: 'below', cellId: selected() as string } : null,
      ),
      cell('insert-above', 'Insert cell above'),
      cell('insert-below', 'Insert cell below'),
      cell('copy', 'Copy cell'),
      cell('cut', 'Cut cell'),
      cell('paste-below', 'Paste cells below'),
      cell('paste-above', 'Paste cells above'),
      cell('delete', 'Delete cell'),
      cell('undo-delete', 'Undo cell deletion'),
      cell('merge-below', 'Merge with the cell below'),
      cell('to-code', 'Change to code'),
      cell('to-markdown', 'Change to markdown'),
      cell('select-previous', 'Select cell above'),
      cell('select-next', 'Select cell below'),
      {
        id: 'interrupt',
        label: 'Interrupt kernel',
        group: 'Kernel',
        keys: 'I, I',
        disabled: !canEdit || !running,
        run: () => void actions.interrupt(),
      },
      {
        id: 'restart',
        label: 'Restart kernel',
        group: 'Kernel',
        keys: '0, 0',
        disabled: !canEdit,
        run: () => void actions.restart(),
      },
      {
        id: 'shutdown',
        label: 'Shut down kernel',
        group: 'Kernel',
        disabled: !canEdit || !kernelStarted,
        run: () => void actions.shutdown(),
      },
      {
        id: 'terminal',
        label: 'Open a terminal',
        group: 'Notebook',
        disabled: !canEdit || !ide,
        run: () => ide?.openTerminal({ notebookId, kernelId: execution.kernel.kernelId }),
      },
      {
        id: 'checkpoint',
        label: 'Save a named checkpoint',
        group: 'Notebook',
        keys: 'Ctrl+S',
        disabled: !canEdit,
        run: () => onPageCommand('save-checkpoint'),
      },
      { id: 'history', label: 'Open history (versions)', group: 'Notebook', run: () => setPanel('history') },
      {
        id: 'find',
        label: 'Find and replace',
        group: 'Notebook',
        keys: 'Ctrl+F',
        run: () => setPanel('find'),
      },
      {
        id: 'shortcuts',
        label: 'Show keyboard shortcuts',
        group: 'Help',
        keys: 'H',
        run: () => setPanel('shortcuts'),
      },
    ];
  }, [canEdit, running, kernelStarted, actions, ide, notebookId, execution.kernel.kernelId, onPageCommand]);

  return (
    <>
      <div className="nb-sticky">
        <KernelBar
          execution={execution}
          connection={props.connection}
          synced={props.synced}
          saved={props.saved}
          canEdit={canEdit}
          actions={actions}
          peers={props.peers}
          resources={props.resources}
          onResourcesSaved={props.onResourcesSaved}
          cost={<KernelCost workspaceId={workspaceId} notebookId={notebookId} />}
        />
        {canEdit ? (
          <NotebookToolbar
            actions={actions}
            selectedCellId={selection.id}
            selectedIndex={selection.index}
            running={running}
            kernelStarted={kernelStarted}
            terminalOpen={terminalOpen}
            onCommand={cellCommand}
            onOpen={openPanel}
          />
        ) : (
          <div className="viewer-banner" role="note">
            <Eye size={16} aria-hidden="true" />
            <span>
              <strong>View only.</strong> You can read, search and copy this notebook. Ask a workspace admin
              for the Editor role to edit or run it.
            </span>
          </div>
        )}
        {panel === 'find' ? (
          <FindBar
            doc={doc}
            canEdit={canEdit && !props.preview}
            onReveal={reveal}
            onClose={() => setPanel(null)}
          />
        ) : null}
        {actions.error ? (
          <div className="alert alert-error nb-error" role="alert">
            {actions.error}
            <button type="button" className="btn-link" onClick={actions.dismissError}>
              Dismiss
            </button>
          </div>
        ) : null}
      </div>
      <NotebookEditor
        doc={doc}
        provider={props.provider}
        notebookId={notebookId}
        canEdit={canEdit && !props.preview}
        peers={props.peers}
        actions={actions}
        onPageCommand={onPageCommand}
        onSelectionChange={onSelectionChange}
        handle={editor}
      />
      <CommandPalette open={panel === 'palette'} actions={paletteActions} onClose={() => setPanel(null)} />
      <ShortcutsDialog open={panel === 'shortcuts'} onClose={() => setPanel(null)} />
      <VersionsDialog
        open={panel === 'history'}
        workspaceId={workspaceId}
        notebookId={notebookId}
        canEdit={canEdit}
        current={doc}
        onClose={() => setPanel(null)}
        onRestored={(version) => {
          setPanel(null);
          props.onNotice({ kind: 'success', text: `Restored version “${version.name}”.` });
        }}
      />
    </>
  );
}

/** The notebook's resources from `notebook.get`, refetched after a machine change. */
export function useNotebookResources(workspaceId: string, notebookId: string) {
  const trpc = useTRPC();
  const details = useQuery(trpc.notebook.get.queryOptions({ workspaceId, notebookId }));
  return { resources: details.data?.resources ?? null, refetch: () => void details.refetch() };
}
