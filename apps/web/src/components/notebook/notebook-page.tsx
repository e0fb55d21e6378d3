'use client';
import 'katex/dist/katex.min.css';
import './notebook.css';
import { useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { useMemo, useState } from 'react';
import type * as Y from 'yjs';
import { PrerenderedRichTextProvider } from '../../lib/notebook/rich-text.tsx';
import { hasRole } from '../../lib/roles.ts';
import type { Me } from '../require-auth.tsx';
import type { Workspace } from '../workspace/workspace-context.tsx';
import { preloadCellEditor } from './cell-view.tsx';
import { useConfirmedKernelActions } from './confirm-kernel-actions.tsx';
import { NotebookHeaderActions } from './notebook-header-actions.tsx';
import { type NotebookSnapshot, snapshotDoc } from './notebook-snapshot.ts';
import { NotebookWorkbench, useNotebookResources } from './notebook-workbench.tsx';
import { type PageNotice, PageNotices } from './page-notices.tsx';
import { type Peer, RemoteCursorStyles, usePeers } from './presence.tsx';
import { type KernelActions, useKernelActions } from './use-kernel-actions.ts';
import { type ConnectionStatus, type NotebookSession, useNotebookSession } from './use-notebook-session.ts';

/** The collaborative notebook: kernel bar, toolbar, cells. */
export function NotebookPage({
  workspace,
  me,
  notebook,
  snapshot,
}: {
  workspace: Workspace;
  me: Me;
  notebook: { id: string; name: string };
  /** The first cells as the server rendered them, shown until the live document has synced. */
  snapshot?: NotebookSnapshot | null;
}) {
  const queryClient = useQueryClient();
  // A role change reconnects the socket with the new rights; refetch the role the page renders from.
  const { session, status, synced, everSynced, saved } = useNotebookSession(
    notebook.id,
    { id: me.user.id, name: me.user.name },
    () => void queryClient.invalidateQueries(),
  );
  const peers = usePeers(session?.provider.awareness ?? null);
  const actions = useKernelActions(workspace.id, notebook.id);
  const canEdit = hasRole(workspace.role, 'EDITOR');
  // Viewers never get an editor (static code only), so only editors load Monaco. Asked for while
  // hydrating (a render, not an effect): an effect runs only once the whole page has hydrated, and
  // the editor's download then waited for that. Importing twice is a no-op.
  if (canEdit && typeof window !== 'undefined') preloadCellEditor();
  const previewDoc = useMemo(() => (snapshot ? snapshotDoc(snapshot) : null), [snapshot]);
  const [notice, setNotice] = useState<PageNotice | null>(null);

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
        <h1 className="nb-title" title={notebook.name}>
          {notebook.name}
        </h1>
        <NotebookHeaderActions
          workspace={workspace}
          notebookId={notebook.id}
          onError={(text) => setNotice({ kind: 'error', text })}
        />
      </div>
      <PageNotices
        notice={notice}
        onDismiss={() => setNotice(null)}
        offline={everSynced && status !== 'connected'}
        saved={saved}
      />
      {session || previewDoc ? (
        <PrerenderedRichTextProvider value={snapshot?.richText}>
          <LiveNotebook
            session={session}
            previewDoc={previewDoc}
            notebookName={notebook.name}
            onNotice={setNotice}
            status={status}
            synced={synced}
            everSynced={everSynced}
            saved={saved}
            notebookId={notebook.id}
            canEdit={canEdit}
            actions={actions}
            peers={peers}
            workspaceId={workspace.id}
          />
        </PrerenderedRichTextProvider>
      ) : null}
    </div>
  );
}

function LiveNotebook(props: {
  session: NotebookSession | null;
  previewDoc: Y.Doc | null;
  notebookName: string;
  onNotice(notice: { kind: 'error' | 'success'; text: string }): void;
  status: ConnectionStatus;
  synced: boolean;
  everSynced: boolean;
  saved: boolean;
  notebookId: string;
  canEdit: boolean;
  actions: KernelActions;
  peers: readonly Peer[];
  workspaceId: string;
}) {
  const { session, peers, canEdit } = props;
  const { actions, dialog: confirmDialog } = useConfirmedKernelActions(props.actions);
  const details = useNotebookResources(props.workspaceId, props.notebookId);
  const live = session !== null && props.everSynced;
  const doc = live ? session.doc : props.previewDoc;
  return (
    <>
      {confirmDialog}
      <RemoteCursorStyles peers={peers} />
      {doc ? (
        <NotebookWorkbench
          doc={doc}
          provider={live ? session.provider : null}
          preview={!live}
          workspaceId={props.workspaceId}
          notebookId={props.notebookId}
          notebookName={props.notebookName}
          canEdit={canEdit}
          connection={props.status}
          synced={props.synced}
          saved={props.saved}
          actions={actions}
          peers={peers}
          resources={details.resources}
          onResourcesSaved={details.refetch}
          onNotice={props.onNotice}
        />
      ) : (
        <div className="loading" role="status">
          <span className="spinner" aria-hidden="true" />
          {props.status === 'connected' ? 'Loading cells…' : 'Connecting to the notebook…'}
        </div>
      )}
    </>
  );
}
