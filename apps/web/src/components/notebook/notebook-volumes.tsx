'use client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { HardDrive } from 'lucide-react';
import { useState } from 'react';
import { hasRole } from '../../lib/roles.ts';
import { useTRPC } from '../../lib/trpc.ts';
import { Dialog } from '../dialog.tsx';
import { SaveForm } from '../save-form.tsx';
import { ErrorAlert, Loading } from '../status.tsx';
import type { Workspace } from '../workspace/workspace-context.tsx';

export type VolumeUse = { volumeId: string; readOnly: boolean };

/** The workspace's volumes as checkboxes, each read-write or read-only: the notebook's chooser and the deploy dialog's. */
export function VolumeChecklist(props: {
  workspace: Workspace;
  chosen: VolumeUse[];
  onChange(volumes: VolumeUse[]): void;
  disabled?: boolean;
  legend: string;
}) {
  const { workspace, chosen, onChange } = props;
  const trpc = useTRPC();
  const all = useQuery(trpc.volume.list.queryOptions({ workspaceId: workspace.id }));
  const use = (volumeId: string) => chosen.find((entry) => entry.volumeId === volumeId);
  return (
    <>
      {all.isPending ? <Loading /> : null}
      <ErrorAlert error={all.error} />
      {all.data?.length === 0 ? (
        <p>This workspace has no volumes yet; create one in the Files panel.</p>
      ) : null}
      <fieldset className="stack" disabled={props.disabled}>
        <legend className="visually-hidden">{props.legend}</legend>
        {all.data?.map((volume) => (
          <div key={volume.id} className="row small">
            <label>
              <input
                type="checkbox"
                checked={Boolean(use(volume.id))}
                onChange={(e) =>
                  onChange(
                    e.target.checked
                      ? [...chosen, { volumeId: volume.id, readOnly: false }]
                      : chosen.filter((entry) => entry.volumeId !== volume.id),
                  )
                }
              />{' '}
              <strong>/vol/{volume.name}</strong>
            </label>
            <label className="muted">
              <input
                type="checkbox"
                disabled={!use(volume.id)}
                checked={use(volume.id)?.readOnly ?? false}
                onChange={(e) => {
                  const readOnly = e.currentTarget.checked;
                  onChange(
                    chosen.map((entry) => (entry.volumeId === volume.id ? { ...entry, readOnly } : entry)),
                  );
                }}
              />{' '}
              read-only
            </label>
          </div>
        ))}
      </fieldset>
    </>
  );
}

function VolumeChooser(props: {
  workspace: Workspace;
  notebookId: string;
  chosen: VolumeUse[];
  onClose(): void;
}) {
  const { workspace, notebookId } = props;
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const canEdit = hasRole(workspace.role, 'EDITOR');
  const [chosen, setChosen] = useState(props.chosen);
  const save = useMutation(
    trpc.volume.setForNotebook.mutationOptions({
      onSuccess: async () => {
        await queryClient.invalidateQueries({
          queryKey: trpc.volume.forNotebook.queryKey({ workspaceId: workspace.id, notebookId }),
        });
        props.onClose();
      },
    }),
  );
  return (
    <SaveForm
      canEdit={canEdit}
      save={save}
      submitLabel="Use these volumes"
      onSubmit={() => save.mutate({ workspaceId: workspace.id, notebookId, volumes: chosen })}
      onClose={props.onClose}
    >
      <p className="muted small">
        The kernel mounts the chosen volumes at <code>/vol/&lt;name&gt;</code> when it next starts (restart a
        running kernel to apply a change).
      </p>
      <VolumeChecklist
        workspace={workspace}
        chosen={chosen}
        onChange={setChosen}
        disabled={!canEdit}
        legend="Volumes for this notebook"
      />
    </SaveForm>
  );
}

/** The notebook's volumes and, for editors, the chooser (like its secrets). */
export function NotebookVolumesButton(props: { workspace: Workspace; notebookId: string }) {
  const { workspace, notebookId } = props;
  const trpc = useTRPC();
  const [open, setOpen] = useState(false);
  const current = useQuery(trpc.volume.forNotebook.queryOptions({ workspaceId: workspace.id, notebookId }));
  const count = current.data?.length ?? 0;
  return (
    <>
      <button
        type="button"
        className="btn btn-small"
        title={
          current.data
            ?.map((volume) => `/vol/${volume.name}${volume.readOnly ? ' (read-only)' : ''}`)
            .join(', ') || 'No volumes'
        }
        onClick={() => setOpen(true)}
      >
        <HardDrive size={15} aria-hidden="true" />
        Volumes{count > 0 ? ` (${count})` : ''}
      </button>
      <Dialog open={open} title="Volumes for this notebook" onClose={() => setOpen(false)}>
        {open && current.data ? (
          <VolumeChooser
            workspace={workspace}
            notebookId={notebookId}
            chosen={current.data.map((volume) => ({ volumeId: volume.volumeId, readOnly: volume.readOnly }))}
            onClose={() => setOpen(false)}
          />
        ) : (
          <ErrorAlert error={current.error} />
        )}
      </Dialog>
    </>
  );
}
