'use client';
import { useQuery } from '@tanstack/react-query';
import { HardDrive } from 'lucide-react';
import { useTRPC } from '../../lib/trpc.ts';
import type { Workspace } from '../workspace/workspace-context.tsx';
import { NotebookPickerButton, WorkspaceChecklist } from './notebook-picker.tsx';

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
    <WorkspaceChecklist
      list={all}
      empty={<p>This workspace has no volumes yet; create one in the Files panel.</p>}
      disabled={props.disabled}
      legend={props.legend}
      row={(volume) => (
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
      )}
    />
  );
}

/** The notebook's volumes and, for editors, the chooser (like its secrets). */
export function NotebookVolumesButton(props: { workspace: Workspace; notebookId: string }) {
  const { workspace, notebookId } = props;
  const trpc = useTRPC();
  return (
    <NotebookPickerButton
      workspace={workspace}
      noun="Volumes"
      icon={HardDrive}
      procedures={{
        current: trpc.volume.forNotebook.queryOptions({ workspaceId: workspace.id, notebookId }),
        toChoice: (volume): VolumeUse => ({ volumeId: volume.volumeId, readOnly: volume.readOnly }),
        saveOptions: (callbacks) => trpc.volume.setForNotebook.mutationOptions(callbacks),
        toVariables: (volumes: VolumeUse[]) => ({ workspaceId: workspace.id, notebookId, volumes }),
      }}
      describe={(volume) => `/vol/${volume.name}${volume.readOnly ? ' (read-only)' : ''}`}
      submitLabel="Use these volumes"
    >
      {(choice) => (
        <>
          <p className="muted small">
            The kernel mounts the chosen volumes at <code>/vol/&lt;name&gt;</code> when it next starts
            (restart a running kernel to apply a change).
          </p>
          <VolumeChecklist workspace={workspace} {...choice} legend="Volumes for this notebook" />
        </>
      )}
    </NotebookPickerButton>
  );
}
