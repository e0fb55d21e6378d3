'use client';
import '../notebook/notebook.css';
import './function.css';
import { useQueryClient } from '@tanstack/react-query';
import { History } from 'lucide-react';
import Link from 'next/link';
import { useState } from 'react';
import { hasRole } from '../../lib/roles.ts';
import { NotebookHeaderActions } from '../notebook/notebook-header-actions.tsx';
import { useNotebookResources } from '../notebook/notebook-workbench.tsx';
import { type PageNotice, PageNotices } from '../notebook/page-notices.tsx';
import { RemoteCursorStyles, usePeers } from '../notebook/presence.tsx';
import { useKernelActions } from '../notebook/use-kernel-actions.ts';
import { useNotebookSession } from '../notebook/use-notebook-session.ts';
import type { Me } from '../require-auth.tsx';
import type { Workspace } from '../workspace/workspace-context.tsx';
import { FunctionWorkbench } from './function-workbench.tsx';

/**
 * A function file: its module edited live by everyone here (the same room, presence and rights as a
 * notebook), a machine, and runs of one function at a time whose output everyone sees.
 */
export function FunctionPage({
  workspace,
  me,
  file,
}: {
  workspace: Workspace;
  me: Me;
  file: { id: string; name: string };
}) {
  const queryClient = useQueryClient();
  const { session, status, synced, everSynced, saved } = useNotebookSession(
    file.id,
    { id: me.user.id, name: me.user.name },
    () => void queryClient.invalidateQueries(),
  );
  const peers = usePeers(session?.provider.awareness ?? null);
  const actions = useKernelActions(workspace.id, file.id);
  const details = useNotebookResources(workspace.id, file.id);
  const canEdit = hasRole(workspace.role, 'EDITOR');
  const [historyOpen, setHistoryOpen] = useState(false);
  const [notice, setNotice] = useState<PageNotice | null>(null);

  if (status === 'signed-out' || status === 'not-found' || status === 'forbidden') {
    return (
      <div className="empty stack">
        <h1>{status === 'signed-out' ? 'Your session ended' : 'Function file not available'}</h1>
        <p>
          {status === 'signed-out'
            ? 'Sign in again to keep working.'
            : 'It was deleted, or your access was removed.'}
        </p>
        <p>
          <Link href={status === 'signed-out' ? '/sign-in' : `/w/${workspace.slug}`}>
            {status === 'signed-out' ? 'Sign in' : 'Back to the workspace'}
          </Link>
        </p>
      </div>
    );
  }

  const live = session !== null && everSynced;
  return (
    <div className="notebook function-file">
      <div className="nb-header">
        <h1 className="nb-title" title={file.name}>
          {file.name}
        </h1>
        <button type="button" className="btn btn-small" onClick={() => setHistoryOpen(true)} disabled={!live}>
          <History size={15} aria-hidden="true" />
          History
        </button>
        <NotebookHeaderActions
          workspace={workspace}
          notebookId={file.id}
          kind="function"
          onError={(text) => setNotice({ kind: 'error', text })}
        />
      </div>
      <PageNotices
        notice={notice}
        onDismiss={() => setNotice(null)}
        offline={everSynced && status !== 'connected'}
        saved={saved}
      />
      <RemoteCursorStyles peers={peers} />
      {live ? (
        <FunctionWorkbench
          workspace={workspace}
          doc={session.doc}
          provider={session.provider}
          workspaceId={workspace.id}
          fileId={file.id}
          fileName={file.name}
          canEdit={canEdit}
          connection={status}
          synced={synced}
          saved={saved}
          actions={actions}
          peers={peers}
          resources={details.resources}
          onResourcesSaved={details.refetch}
          historyOpen={historyOpen}
          onHistoryClose={() => setHistoryOpen(false)}
          onNotice={setNotice}
        />
      ) : (
        <div className="loading" role="status">
          <span className="spinner" aria-hidden="true" />
          {status === 'connected' ? 'Loading the module…' : 'Connecting to the function file…'}
        </div>
      )}
    </div>
  );
}
