'use client';
import 'katex/dist/katex.min.css';
import './notebook.css';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import dynamic from 'next/dynamic';
import Link from 'next/link';
import { useState } from 'react';
import { hasRole } from '../../lib/roles.ts';
import { useTRPC } from '../../lib/trpc.ts';
import type { Me } from '../require-auth.tsx';
import type { Workspace } from '../workspace/workspace-context.tsx';
import { useConfirmedKernelActions } from './confirm-kernel-actions.tsx';
import { DownloadIpynbButton } from './download-ipynb.tsx';
import { KernelBar } from './kernel-bar.tsx';
import { NotebookEditor } from './notebook-editor.tsx';
import { type Peer, RemoteCursorStyles, usePeers } from './presence.tsx';
import { type KernelActions, useKernelActions } from './use-kernel-actions.ts';
import { type ConnectionStatus, type NotebookSession, useNotebookSession } from './use-notebook-session.ts';
import { useExecutionView } from './use-y.ts';
import { VersionsDialog } from './versions-dialog.tsx';

const TerminalPanel = dynamic(() => import('./terminal-panel.tsx'), { ssr: false });

/** The collaborative notebook: kernel bar, toolbar, cells, terminal. */
export function NotebookPage({
  workspace,
  me,
  notebook,
}: {
  workspace: Workspace;
  me: Me;
  notebook: { id: string; name: string };
}) {
  const queryClient = useQueryClient();
  // A role change reconnects the socket with the new rights; refetch the role the page renders from.
  const { session, status, synced } = useNotebookSession(
    notebook.id,
    { id: me.user.id, name: me.user.name },
    () => void queryClient.invalidateQueries(),
  );
  const peers = usePeers(session?.provider.awareness ?? null);
  const actions = useKernelActions(workspace.id, notebook.id);
  const canEdit = hasRole(workspace.role, 'EDITOR');
  const [versionsOpen, setVersionsOpen] = useState(false);
  const [notice, setNotice] = useState<{ kind: 'error' | 'success'; text: string } | null>(null);

  if (status === 'signed-out' || status === 'not-found' || status === 'forbidden') {
    return (
      <div className="empty stack">
        <h1>{status === 'signed-out' ? 'Your session ended' : 'Notebook not available'}</h1>
        <p>
          {status === 'signed-out'
            ? 'Sign in again to keep working.'
            : 'It was deleted, or your access was removed.'}
        </p>
        <p>
          <Link href={status === 'signed-out' ? '/sign-in' : `/w/${workspace.slug}`}>
            {status === 'signed-out' ? 'Sign in' : 'Back to notebooks'}
          </Link>
        </p>
      </div>
    );
  }

  return (
    <div className="notebook">
      <div className="nb-header">
        <h1 className="nb-title">{notebook.name}</h1>
        <DownloadIpynbButton
          workspaceId={workspace.id}
          notebookId={notebook.id}
          onError={(text) => setNotice({ kind: 'error', text })}
        />
        <button type="button" className="btn btn-small" onClick={() => setVersionsOpen(true)}>
          Versions
        </button>
        <Link className="btn btn-small btn-ghost" href={`/w/${workspace.slug}`}>
          All notebooks
        </Link>
      </div>
      {notice ? (
        <div
          className={`alert ${notice.kind === 'error' ? 'alert-error' : 'alert-success'} nb-notice`}
          role={notice.kind === 'error' ? 'alert' : 'status'}
        >
          {notice.text}
          <button type="button" className="btn-link" onClick={() => setNotice(null)}>
            Dismiss
          </button>
        </div>
      ) : null}
      <VersionsDialog
        open={versionsOpen}
        workspaceId={workspace.id}
        notebookId={notebook.id}
        canEdit={canEdit}
        onClose={() => setVersionsOpen(false)}
        onRestored={(version) => {
          setVersionsOpen(false);
          setNotice({ kind: 'success', text: `Restored version “${version.name}”.` });
        }}
      />
      {session ? (
        <LiveNotebook
          session={session}
          status={status}
          synced={synced}
          notebookId={notebook.id}
          canEdit={canEdit}
          actions={actions}
          peers={peers}
          workspaceId={workspace.id}
        />
      ) : null}
    </div>
  );
}

function LiveNotebook(props: {
  session: NotebookSession;
  status: ConnectionStatus;
  synced: boolean;
  notebookId: string;
  canEdit: boolean;
  actions: KernelActions;
  peers: readonly Peer[];
  workspaceId: string;
}) {
  const { session, peers, canEdit } = props;
  const { actions, dialog: confirmDialog } = useConfirmedKernelActions(props.actions);
  const trpc = useTRPC();
  const details = useQuery(
    trpc.notebook.get.queryOptions({ workspaceId: props.workspaceId, notebookId: props.notebookId }),
  );
  const execution = useExecutionView(session.doc);
  const [terminalOpen, setTerminalOpen] = useState(false);
  return (
    <>
      <div className="nb-sticky">
        <KernelBar
          execution={execution}
          connection={props.status}
          synced={props.synced}
          canEdit={canEdit}
          actions={actions}
          peers={peers}
          terminalOpen={terminalOpen}
          onToggleTerminal={() => setTerminalOpen((open) => !open)}
          resources={details.data?.resources ?? null}
          onResourcesSaved={() => void details.refetch()}
        />
        {actions.error ? (
          <div className="alert alert-error nb-error" role="alert">
            {actions.error}
            <button type="button" className="btn-link" onClick={actions.dismissError}>
              Dismiss
            </button>
          </div>
        ) : null}
      </div>
      {confirmDialog}
      <RemoteCursorStyles peers={peers} />
      {props.synced ? (
        <NotebookEditor
          doc={session.doc}
          provider={session.provider}
          notebookId={props.notebookId}
          canEdit={canEdit}
          peers={peers}
          actions={actions}
        />
      ) : (
        <div className="loading" role="status">
          <span className="spinner" aria-hidden="true" />
          Opening notebook…
        </div>
      )}
      {terminalOpen && canEdit ? (
        <TerminalPanel notebookId={props.notebookId} kernelId={execution.kernel.kernelId} />
      ) : null}
    </>
  );
}
