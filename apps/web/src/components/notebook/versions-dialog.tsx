'use client';
import * as Tabs from '@radix-ui/react-tabs';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import type * as Y from 'yjs';
import { formatDateTime } from '../../lib/format.ts';
import type { RouterOutputs } from '../../lib/router-types.ts';
import { useTRPC } from '../../lib/trpc.ts';
import { ConfirmDialog } from '../confirm-dialog.tsx';
import { Dialog } from '../dialog.tsx';
import { TextField } from '../field.tsx';
import { ErrorAlert, Loading, SuccessAlert } from '../status.tsx';
import { VersionChanges } from './version-changes.tsx';
import { VersionPreview } from './version-preview.tsx';

type Version = RouterOutputs['version']['list'][number];

interface VersionsDialogProps {
  open: boolean;
  workspaceId: string;
  notebookId: string;
  canEdit: boolean;
  /** The live notebook, to show what changed since a version. */
  current: Y.Doc;
  onClose(): void;
  /** Called after the live document was rewritten to `version` (collaborators get it through Yjs). */
  onRestored(version: Version): void;
}

/**
 * The notebook's history: named versions and automatic ones, newest first. Preview one (its cells,
 * or what changed since), and restore it from the list or the preview.
 */
export function VersionsDialog(props: VersionsDialogProps) {
  const { workspaceId, notebookId, canEdit } = props;
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const listKey = trpc.version.list.queryKey({ workspaceId, notebookId });
  const versions = useQuery({
    ...trpc.version.list.queryOptions({ workspaceId, notebookId }),
    enabled: props.open,
    staleTime: 0,
  });
  const [name, setName] = useState('');
  const [saved, setSaved] = useState<string | null>(null);
  const [previewing, setPreviewing] = useState<Version | null>(null);
  const [restoring, setRestoring] = useState<Version | null>(null);

  const save = useMutation(
    trpc.version.save.mutationOptions({
      onSuccess: async (version) => {
        setName('');
        setSaved(version.name);
        await queryClient.invalidateQueries({ queryKey: listKey });
      },
    }),
  );
  const restore = useMutation(
    trpc.version.restore.mutationOptions({
      onSuccess: (_result, variables) => {
        const version = versions.data?.find((v) => v.id === variables.versionId);
        setRestoring(null);
        if (version) props.onRestored(version);
      },
    }),
  );

  return (
    <>
      <Dialog open={props.open} title="History" className="dialog-wide" onClose={props.onClose}>
        {canEdit ? (
          <form
            className="form version-save"
            onSubmit={(event) => {
              event.preventDefault();
              setSaved(null);
              save.mutate({ workspaceId, notebookId, name: name.trim() });
            }}
          >
            <TextField
              label="Version name"
              name="version-name"
              required
              maxLength={100}
              placeholder="e.g. Before refactoring the loader"
              hint="Saves the notebook as it is now: cells and outputs."
              value={name}
              onChange={(event) => setName(event.target.value)}
            />
            <button
              type="submit"
              className="btn btn-primary"
              disabled={save.isPending || !name.trim()}
              aria-busy={save.isPending || undefined}
            >
              Save version
            </button>
          </form>
        ) : null}
        <ErrorAlert error={save.error} />
        {saved ? <SuccessAlert>Saved version “{saved}”.</SuccessAlert> : null}

        {versions.isPending && props.open ? <Loading label="Loading versions…" /> : null}
        <ErrorAlert error={versions.error} />
        {versions.data?.length === 0 ? (
          <div className="empty">
            {canEdit
              ? 'No saved versions yet. Name the current state to save one.'
              : 'No saved versions yet.'}
          </div>
        ) : null}
        {versions.data && versions.data.length > 0 ? (
          <ul className="version-list" aria-label="Saved versions">
            {versions.data.map((version) => (
              <li key={version.id} className="version-item">
                <div className="version-meta">
                  <strong className="version-name">
                    {version.name} {version.auto ? <span className="badge">Automatic</span> : null}
                  </strong>
                  <span className="muted small">
                    {version.auto ? 'Kiln' : (version.createdBy?.name ?? 'A former member')} ·{' '}
                    {formatDateTime(version.createdAt)}
                  </span>
                </div>
                <button type="button" className="btn btn-small" onClick={() => setPreviewing(version)}>
                  Preview
                </button>
                {canEdit ? (
                  <button
                    type="button"
                    className="btn btn-small"
                    onClick={() => {
                      restore.reset();
                      setRestoring(version);
                    }}
                  >
                    Restore
                  </button>
                ) : null}
              </li>
            ))}
          </ul>
        ) : null}
        <div className="dialog-actions">
          <button type="button" className="btn" onClick={props.onClose}>
            Close
          </button>
        </div>
      </Dialog>

      <PreviewDialog
        version={previewing}
        workspaceId={workspaceId}
        notebookId={notebookId}
        current={props.current}
        canEdit={canEdit}
        onRestore={(version) => {
          restore.reset();
          setPreviewing(null);
          setRestoring(version);
        }}
        onClose={() => setPreviewing(null)}
      />

      <ConfirmDialog
        open={restoring !== null}
        title="Restore this version?"
        confirmLabel="Restore version"
        pending={restore.isPending}
        error={restore.error}
        onConfirm={() => restoring && restore.mutate({ workspaceId, notebookId, versionId: restoring.id })}
        onClose={() => setRestoring(null)}
      >
        <p>
          The notebook&apos;s cells and outputs will be replaced with <strong>{restoring?.name}</strong>.
          Collaborators will see the restore as an edit, live.
        </p>
        <p className="muted">
          To be able to go back, save the current state as a version first: restoring that version brings it
          back.
        </p>
      </ConfirmDialog>
    </>
  );
}

function PreviewDialog(props: {
  version: Version | null;
  workspaceId: string;
  notebookId: string;
  current: Y.Doc;
  canEdit: boolean;
  onRestore(version: Version): void;
  onClose(): void;
}) {
  const trpc = useTRPC();
  const detail = useQuery({
    ...trpc.version.get.queryOptions({
      workspaceId: props.workspaceId,
      notebookId: props.notebookId,
      versionId: props.version?.id ?? '',
    }),
    enabled: props.version !== null,
  });
  const { version } = props;
  return (
    <Dialog
      open={version !== null}
      title={`Preview: ${version?.name ?? ''}`}
      className="dialog-wide"
      onClose={props.onClose}
    >
      {version ? (
        <p className="muted small">
          Read-only.{' '}
          {version.auto ? 'Saved automatically' : `Saved by ${version.createdBy?.name ?? 'a former member'}`}{' '}
          on {formatDateTime(version.createdAt)}.
        </p>
      ) : null}
      {detail.isPending ? <Loading label="Loading version…" /> : null}
      <ErrorAlert error={detail.error} />
      {detail.data ? (
        <Tabs.Root defaultValue="changes">
          <Tabs.List className="tab-list" aria-label="Preview">
            <Tabs.Trigger value="changes" className="tab">
              Changes since
            </Tabs.Trigger>
            <Tabs.Trigger value="contents" className="tab">
              Contents
            </Tabs.Trigger>
          </Tabs.List>
          <Tabs.Content value="changes" className="version-preview-frame">
            <VersionChanges version={detail.data.notebook} current={props.current} />
          </Tabs.Content>
          <Tabs.Content value="contents" className="version-preview-frame">
            <VersionPreview notebook={detail.data.notebook} notebookId={props.notebookId} />
          </Tabs.Content>
        </Tabs.Root>
      ) : null}
      <div className="dialog-actions">
        <button type="button" className="btn" onClick={props.onClose}>
          Close
        </button>
        {props.canEdit && version ? (
          <button type="button" className="btn btn-primary" onClick={() => props.onRestore(version)}>
            Restore this version
          </button>
        ) : null}
      </div>
    </Dialog>
  );
}
