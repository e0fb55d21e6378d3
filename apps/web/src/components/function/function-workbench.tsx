'use client';
import { FUNCTION_CALL_CELL, FUNCTION_MODULE_CELL, listModuleFunctions, type YCell } from '@kiln/notebook';
import { Eye } from 'lucide-react';
import dynamic from 'next/dynamic';
import { useMemo } from 'react';
import type { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import { KernelBar, type NotebookResources } from '../notebook/kernel-bar.tsx';
import { OutputItem } from '../notebook/output-view.tsx';
import type { Peer } from '../notebook/presence.tsx';
import { StdinPrompt } from '../notebook/stdin-prompt.tsx';
import type { KernelActions } from '../notebook/use-kernel-actions.ts';
import type { ConnectionStatus } from '../notebook/use-notebook-session.ts';
import { useCells, useExecutionView, useOutputs, useText } from '../notebook/use-y.ts';
import { VersionsDialog } from '../notebook/versions-dialog.tsx';
import { KernelCost } from '../usage/kernel-cost.tsx';
import type { Workspace } from '../workspace/workspace-context.tsx';
import { FunctionList } from './function-list.tsx';
import { RunPanel, type RunPanelHandle } from './run-panel.tsx';

const CellEditor = dynamic(() => import('../notebook/cell-editor.tsx'), { ssr: false, loading: () => null });

export interface FunctionWorkbenchProps {
  workspace: Workspace;
  doc: Y.Doc;
  provider: WebsocketProvider;
  workspaceId: string;
  fileId: string;
  fileName: string;
  canEdit: boolean;
  connection: ConnectionStatus;
  synced: boolean;
  saved: boolean;
  actions: KernelActions;
  peers: readonly Peer[];
  resources: NotebookResources | null;
  onResourcesSaved(): void;
  historyOpen: boolean;
  onHistoryClose(): void;
  onNotice(notice: { kind: 'error' | 'success'; text: string }): void;
}

/** Kernel bar and machine, the shared module editor, the run form, and the last run's output. */
export function FunctionWorkbench(props: FunctionWorkbenchProps) {
  const { doc, canEdit, actions, workspaceId, fileId } = props;
  const execution = useExecutionView(doc);
  const cells = useCells(doc);
  const module = cells.find((cell) => cell.get('id') === FUNCTION_MODULE_CELL);
  const call = cells.find((cell) => cell.get('id') === FUNCTION_CALL_CELL);
  const source = module?.get('source');
  const text = useText(source instanceof Y.Text ? source : null);
  const functions = useMemo(() => listModuleFunctions(text), [text]);
  const runPanel = useMemo<{ current: RunPanelHandle | null }>(() => ({ current: null }), []);
  const busy = execution.running !== null || execution.queue.length > 0;

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
          cost={<KernelCost workspaceId={workspaceId} notebookId={fileId} />}
        />
        {canEdit ? null : (
          <div className="viewer-banner" role="note">
            <Eye size={16} aria-hidden="true" />
            <span>
              <strong>View only.</strong> You can read and copy this module. Ask a workspace admin for the
              Editor role to edit or run it.
            </span>
          </div>
        )}
        {actions.error ? (
          <div className="alert alert-error nb-error" role="alert">
            {actions.error}
            <button type="button" className="btn-link" onClick={actions.dismissError}>
              Dismiss
            </button>
          </div>
        ) : null}
      </div>
      {source instanceof Y.Text ? (
        <div className="fn-editor">
          <CellEditor
            source={source}
            awareness={props.provider.awareness}
            language="python"
            readOnly={!canEdit}
            autoFocus={false}
            lineNumbers
            label={`Module ${props.fileName}`}
            onFocus={() => {}}
            onCommand={(command) => {
              if (command === 'run' || command === 'run-select-next' || command === 'run-insert-below') {
                runPanel.current?.run();
              }
            }}
          />
        </div>
      ) : (
        <div className="alert alert-error" role="alert">
          This file has lost its module. Open History to restore a version of it.
        </div>
      )}
      <FunctionList
        workspace={props.workspace}
        fileId={fileId}
        functions={functions}
        source={text}
        canDeploy={canEdit}
      />
      <RunPanel
        handle={runPanel}
        workspaceId={workspaceId}
        fileId={fileId}
        functions={functions}
        canRun={canEdit}
        busy={busy}
        onStop={() => void actions.interrupt()}
      />
      {execution.input && canEdit ? (
        <StdinPrompt
          prompt={execution.input.prompt}
          password={execution.input.password}
          disabled={false}
          onSubmit={actions.answerInput}
        />
      ) : null}
      {module && call ? <RunOutput module={module} call={call} fileId={fileId} /> : null}
      <VersionsDialog
        open={props.historyOpen}
        workspaceId={workspaceId}
        notebookId={fileId}
        canEdit={canEdit}
        current={doc}
        onClose={props.onHistoryClose}
        onRestored={(version) => {
          props.onHistoryClose();
          props.onNotice({ kind: 'success', text: `Restored version “${version.name}”.` });
        }}
      />
    </>
  );
}

/** What the last run printed: while importing the module, then the call's output and result. */
function RunOutput({ module, call, fileId }: { module: YCell; call: YCell; fileId: string }) {
  const moduleOutputs = useOutputs(module);
  const callOutputs = useOutputs(call);
  const state = (cell: YCell) => String(cell.get('execution_state') ?? 'idle');
  const metadata = call.get('metadata');
  const run = metadata instanceof Y.Map ? (metadata.get('kiln_run') as LastRun | undefined) : undefined;
  const status = [state(module), state(call)].includes('running')
    ? 'Running…'
    : [state(module), state(call)].includes('queued')
      ? 'Queued…'
      : null;
  if (!run && moduleOutputs.length === 0 && callOutputs.length === 0) {
    return <p className="muted small fn-output-empty">Run a function to see its output here.</p>;
  }
  return (
    <section className="fn-output" aria-label="Run output">
      <div className="fn-output-head">
        <strong>Output</strong>
        {run ? (
          <code className="fn-output-call" title={`Run by ${run.by}`}>
            {run.function}(**{JSON.stringify(run.args)})
          </code>
        ) : null}
        {run ? <span className="muted small">by {run.by}</span> : null}
        {status ? (
          <span className="small" role="status">
            {status}
          </span>
        ) : null}
      </div>
      {moduleOutputs.length > 0 ? (
        <div className="cell-outputs" data-testid="module-output">
          {moduleOutputs.map((output, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: outputs have no ids; their order is fixed
            <OutputItem key={i} output={output} notebookId={fileId} />
          ))}
        </div>
      ) : null}
      <div className="cell-outputs" data-testid="call-output">
        {callOutputs.map((output, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: outputs have no ids; their order is fixed
          <OutputItem key={i} output={output} notebookId={fileId} />
        ))}
      </div>
    </section>
  );
}

interface LastRun {
  function: string;
  args: unknown;
  by: string;
}
