'use client';
import { UserPlus } from 'lucide-react';
import dynamic from 'next/dynamic';
import Link from 'next/link';
import { useState } from 'react';
import { hasRole } from '../../lib/roles.ts';
import { Dialog } from '../dialog.tsx';
import type { Workspace } from '../workspace/workspace-context.tsx';
import { DownloadIpynbButton } from './download-ipynb.tsx';
import { NotebookScheduleButton } from './notebook-schedule.tsx';
import { NotebookSecretsButton } from './notebook-secrets.tsx';
import { NotebookVolumesButton } from './notebook-volumes.tsx';

// The invite form (react-hook-form and the API's zod schemas) loads when sharing is opened, so the
// notebook page's own script carries neither.
const InviteForm = dynamic(() => import('../workspace/invite-form.tsx').then((module) => module.InviteForm), {
  ssr: false,
  loading: () => <p className="muted small">Loading…</p>,
});

/**
 * The notebook header's actions: secrets, schedule, share (invite a collaborator) and download. They
 * never wrap away. A function file has its secrets and sharing, not a schedule or an .ipynb download.
 */
export function NotebookHeaderActions(props: {
  workspace: Workspace;
  notebookId: string;
  kind?: 'notebook' | 'function';
  onError(message: string): void;
}) {
  const notebook = props.kind !== 'function';
  const [sharing, setSharing] = useState(false);
  const canInvite = hasRole(props.workspace.role, 'ADMIN');
  return (
    <div className="nb-header-actions">
      <NotebookSecretsButton workspace={props.workspace} notebookId={props.notebookId} />
      <NotebookVolumesButton workspace={props.workspace} notebookId={props.notebookId} />
      {notebook ? <NotebookScheduleButton workspace={props.workspace} notebookId={props.notebookId} /> : null}
      {notebook ? (
        <DownloadIpynbButton
          workspaceId={props.workspace.id}
          notebookId={props.notebookId}
          onError={props.onError}
        />
      ) : null}
      <button type="button" className="btn btn-small btn-primary" onClick={() => setSharing(true)}>
        <UserPlus size={15} aria-hidden="true" />
        Share
      </button>
      <Dialog
        open={sharing}
        title={notebook ? 'Share this notebook' : 'Share this function file'}
        className="dialog-wide"
        onClose={() => setSharing(false)}
      >
        <p className="muted small">
          Everyone in <strong>{props.workspace.name}</strong> can open this {notebook ? 'notebook' : 'file'}.
          Editors edit and run it with you, live; viewers read it.
        </p>
        {canInvite ? (
          <InviteForm workspaceId={props.workspace.id} />
        ) : (
          <p>
            Ask a workspace admin to invite people, or see who is here on the{' '}
            <Link href={`/w/${props.workspace.slug}/members`}>Members</Link> page.
          </p>
        )}
        <div className="dialog-actions">
          <button type="button" className="btn" onClick={() => setSharing(false)}>
            Done
          </button>
        </div>
      </Dialog>
    </div>
  );
}
