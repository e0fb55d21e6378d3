'use client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { ArrowRightLeft, Plus, Trash2 } from 'lucide-react';
import { useState } from 'react';
import { hasRole } from '../../lib/roles.ts';
import { useTRPC } from '../../lib/trpc.ts';
import { ConfirmDialog } from '../confirm-dialog.tsx';
import type { Workspace } from '../workspace/workspace-context.tsx';
import { formatSize } from './file-size.ts';
import { MoveDiskDialog } from './move-disk-dialog.tsx';
import { TextPromptDialog } from './text-prompt-dialog.tsx';

/** What the file browser shows: /workspace, or a named volume (by id). */
export interface VolumeChoice {
  id: string;
  label: string;
}

export const WORKSPACE_VOLUME: VolumeChoice = { id: 'workspace', label: '/workspace' };

/**
 * Chooses the volume, makes new ones (editors), deletes and moves them between nodes (admins), and shows
 * the used size and the deleted volumes whose files still wait to be erased.
 */
export function VolumePicker(props: {
  workspace: Workspace;
  value: VolumeChoice;
  onChange(v: VolumeChoice): void;
}) {
  const { workspace, value, onChange } = props;
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [creating, setCreating] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [moving, setMoving] = useState(false);
  const listKey = trpc.volume.list.queryKey({ workspaceId: workspace.id });
  const volumes = useQuery(trpc.volume.list.queryOptions({ workspaceId: workspace.id }));
  // Deleted volumes (and old copies of moved ones) whose files wait for their node to be erased.
  const erasures = useQuery(trpc.volume.pendingErasures.queryOptions({ workspaceId: workspace.id }));
  const usage = useQuery({
    queryKey: ['volume-usage', workspace.id, value.id],
    queryFn: async () => {
      const response = await fetch(`/api/workspaces/${workspace.id}/volumes/${value.id}/usage`);
      if (!response.ok) return null;
      return (await response.json()) as { usedBytes: number; totalBytes: number };
    },
    retry: false,
  });
  const create = useMutation(
    trpc.volume.create.mutationOptions({
      onSuccess: async (volume) => {
        await queryClient.invalidateQueries({ queryKey: listKey });
        setCreating(false);
        onChange({ id: volume.id, label: `/vol/${volume.name}` });
      },
    }),
  );
  const remove = useMutation(
    trpc.volume.delete.mutationOptions({
      onSuccess: async () => {
        await queryClient.invalidateQueries({ queryKey: listKey });
        await queryClient.invalidateQueries({ queryKey: trpc.volume.pendingErasures.queryKey() });
        setDeleting(false);
        onChange(WORKSPACE_VOLUME);
      },
    }),
  );
  // The server named the kernels that mount it: the next confirmation deletes it anyway.
  const mounted = remove.error?.data?.code === 'CONFLICT';
  const choices = [
    WORKSPACE_VOLUME,
    ...(volumes.data ?? []).map((volume) => ({ id: volume.id, label: `/vol/${volume.name}` })),
  ];
  return (
    <div className="side-volume">
      <div className="side-files-bar">
        <select
          aria-label="Volume"
          className="side-volume-select"
          value={value.id}
          onChange={(event) => {
            const next = choices.find((choice) => choice.id === event.currentTarget.value);
            if (next) onChange(next);
          }}
        >
          {choices.map((choice) => (
            <option key={choice.id} value={choice.id}>
              {choice.label}
            </option>
          ))}
        </select>
        {hasRole(workspace.role, 'EDITOR') ? (
          <button
            type="button"
            className="icon-button"
            aria-label="New volume"
            title="New volume"
            onClick={() => setCreating(true)}
          >
            <Plus size={14} aria-hidden="true" />
          </button>
        ) : null}
        {hasRole(workspace.role, 'ADMIN') ? (
          <button
            type="button"
            className="icon-button"
            aria-label={`Move ${value.label} to another node`}
            title="Move to another node"
            onClick={() => setMoving(true)}
          >
            <ArrowRightLeft size={14} aria-hidden="true" />
          </button>
        ) : null}
        {hasRole(workspace.role, 'ADMIN') && value.id !== WORKSPACE_VOLUME.id ? (
          <button
            type="button"
            className="icon-button"
            aria-label="Delete volume"
            title="Delete volume"
            onClick={() => setDeleting(true)}
          >
            <Trash2 size={14} aria-hidden="true" />
          </button>
        ) : null}
      </div>
      {usage.data ? (
        <p className="muted small side-volume-usage" data-testid="volume-usage">
          {formatSize(usage.data.usedBytes)} used of {formatSize(usage.data.totalBytes)}
        </p>
      ) : null}
      {(erasures.data ?? []).length > 0 ? (
        <ul className="muted small side-volume-erasures" data-testid="pending-erasures">
          {(erasures.data ?? []).map((row) => (
            <li key={`${row.name}-${String(row.since)}-${row.nodeId ?? ''}`}>
              {row.movedTo
                ? `Old copy of ${row.name} (moved to node ${row.movedTo})`
                : `Deleted volume ${row.name}`}
              : files on node {row.nodeId ?? '(unknown)'} still to be erased
              {row.waiting ? ` (${row.waiting})` : ''}
            </li>
          ))}
        </ul>
      ) : null}
      {moving ? (
        <MoveDiskDialog
          workspace={workspace}
          disk={value.id}
          label={value.label}
          onClose={() => {
            setMoving(false);
            void queryClient.invalidateQueries({ queryKey: ['volume-usage', workspace.id, value.id] });
          }}
        />
      ) : null}
      <TextPromptDialog
        open={creating}
        title="New volume"
        label="Volume name"
        hint="Lowercase letters, digits and dashes; kernels that use it see /vol/<name>."
        submitLabel="Create volume"
        pending={create.isPending}
        error={create.error}
        onSubmit={(name) => create.mutate({ workspaceId: workspace.id, name })}
        onClose={() => setCreating(false)}
      />
      <ConfirmDialog
        open={deleting}
        title="Delete volume"
        confirmLabel={mounted ? 'Delete anyway' : 'Delete volume and its files'}
        pending={remove.isPending}
        error={remove.error}
        onConfirm={() =>
          remove.mutate({ workspaceId: workspace.id, volumeId: value.id, evenIfMounted: mounted })
        }
        onClose={() => {
          setDeleting(false);
          remove.reset();
        }}
      >
        Delete {value.label} and every file on it?{' '}
        {mounted
          ? 'Kernels that mount it, sleeping ones too, are stopped and their notebooks told why; then its files are erased.'
          : 'If running kernels mount it, you are told which first.'}
      </ConfirmDialog>
    </div>
  );
}
