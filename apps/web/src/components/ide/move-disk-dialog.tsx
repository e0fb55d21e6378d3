'use client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTRPC } from '../../lib/trpc.ts';
import { Dialog } from '../dialog.tsx';
import { TextField } from '../field.tsx';
import { ErrorAlert } from '../status.tsx';
import type { Workspace } from '../workspace/workspace-context.tsx';
import { formatSize } from './file-size.ts';

/** "3:04 PM, 2 min ago": when a running move started, in the viewer's clock and as a duration. */
function startedWhen(startedAt: Date, now: number): string {
  const seconds = Math.max(0, Math.round((now - startedAt.getTime()) / 1000));
  const ago = seconds < 60 ? `${seconds} s ago` : `${Math.floor(seconds / 60)} min ago`;
  return `${startedAt.toLocaleTimeString([], { hour: 'numeric', minute: '2-digit' })}, ${ago}`;
}

// While a move runs the dialog asks again this often, so it shows when the move has ended; otherwise
// less often, so it shows a move another admin starts while it is open.
const MOVING_POLL_MS = 2000;
const IDLE_POLL_MS = 10_000;

/**
 * Moves a volume (or /workspace, `disk` = `workspace`) to another node. Shows where it lives, what
 * mounts it and a move already running (who started it, when, and that file changes wait for it);
 * when its node is lost, offers instead to give its files up and start it empty elsewhere,
 * confirmed by typing its name.
 */
export function MoveDiskDialog(props: {
  workspace: Workspace;
  disk: string;
  label: string;
  onClose(): void;
}) {
  const { workspace, disk, label, onClose } = props;
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const placement = useQuery({
    ...trpc.volume.placement.queryOptions({ workspaceId: workspace.id, disk }),
    // Fresh on every open: a cached answer from a minute ago would hide a move started since.
    staleTime: 0,
    refetchInterval: (query) => (query.state.data?.moving ? MOVING_POLL_MS : IDLE_POLL_MS),
  });
  const [target, setTarget] = useState('');
  const [confirm, setConfirm] = useState('');
  const move = useMutation(
    trpc.volume.move.mutationOptions({
      onSuccess: async () => {
        await queryClient.invalidateQueries({ queryKey: trpc.volume.placement.queryKey() });
        await queryClient.invalidateQueries({ queryKey: trpc.volume.pendingErasures.queryKey() });
      },
    }),
  );
  const data = placement.data;
  const lost = data?.nodeState === 'lost';
  const choices = (data?.nodes ?? []).filter((node) => node.state === 'active' && node.id !== data?.nodeId);
  const chosen = target || choices[0]?.id || '';
  const done = move.data;
  const moving = data?.moving ?? null;
  return (
    <Dialog open title={`Move ${label}`} onClose={onClose}>
      {done ? (
        <div className="form" data-testid="move-done">
          <p>
            {done.abandoned
              ? `${done.name} now starts empty on node ${done.to}; its files on node ${done.from} were given up.`
              : `${done.name} moved from node ${done.from ?? '(none)'} to node ${done.to}: ${done.files} files, ${formatSize(done.bytes)}, checked against the original.`}
          </p>
          {done.skipped.length > 0 ? (
            <p className="muted small">
              Not copied (special files or unprintable names): {done.skipped.slice(0, 5).join(', ')}
              {done.skipped.length > 5 ? ` and ${done.skipped.length - 5} more` : ''}
            </p>
          ) : null}
          {done.from && !done.oldCopyErased ? (
            <p className="muted small">
              The old copy on node {done.from} is erased once possible ({done.oldCopyWaiting ?? 'pending'}).
            </p>
          ) : null}
          <div className="dialog-actions">
            <button type="button" className="btn btn-primary" onClick={onClose}>
              Close
            </button>
          </div>
        </div>
      ) : (
        <form
          className="form"
          onSubmit={(event) => {
            event.preventDefault();
            move.mutate({
              workspaceId: workspace.id,
              disk,
              toNodeId: chosen,
              ...(lost ? { abandonConfirm: confirm } : {}),
            });
          }}
        >
          <ErrorAlert error={placement.error} />
          {data ? (
            <p data-testid="disk-home">
              {data.nodeId
                ? `${label} lives on node ${data.nodeId}${lost ? `, which is offline (${data.nodeLostReason ?? 'lost'})` : ''}.`
                : `${label} is not on any node yet; it goes where it is first used.`}
            </p>
          ) : null}
          {moving ? (
            <div className="alert alert-info" role="status" data-testid="move-in-progress">
              <p>
                {label} is being moved to node {moving.toNodeId}, started by{' '}
                {moving.startedBy ?? 'another admin'} at{' '}
                {startedWhen(moving.startedAt, placement.dataUpdatedAt || Date.now())}.
              </p>
              <p className="small">
                Until it ends, changes to its files are refused (try them again afterwards) and no other move
                can start.
              </p>
            </div>
          ) : null}
          {data && data.mountedBy.length > 0 ? (
            <p className="muted small">
              Mounted by {data.mountedBy.join(', ')}: stop {data.mountedBy.length > 1 ? 'them' : 'it'} before
              moving.
            </p>
          ) : null}
          <label className="field">
            <span>Move to node</span>
            <select
              className="select"
              value={chosen}
              onChange={(event) => setTarget(event.currentTarget.value)}
            >
              {choices.map((node) => (
                <option key={node.id} value={node.id}>
                  {node.id}
                </option>
              ))}
            </select>
          </label>
          {choices.length === 0 && data ? <p className="muted small">No other node is online.</p> : null}
          {lost ? (
            <TextField
              label={`Type ${data?.name} to give its files up`}
              hint={`Its files are on a lost node and cannot be copied. ${data?.name} then starts empty on node ${chosen || '…'}; the old files are erased if that node ever comes back.`}
              value={confirm}
              onChange={(event) => setConfirm(event.currentTarget.value)}
            />
          ) : (
            <p className="muted small">
              The files are copied and checked before {label} switches; the old copy is then erased.
            </p>
          )}
          <ErrorAlert error={move.error} />
          <div className="dialog-actions">
            <button type="button" className="btn" onClick={onClose}>
              Cancel
            </button>
            <button
              type="submit"
              className={lost ? 'btn btn-danger-solid' : 'btn btn-primary'}
              disabled={move.isPending || !chosen || moving !== null || (lost && confirm !== data?.name)}
            >
              {move.isPending ? 'Working…' : lost ? 'Abandon files and start empty' : 'Move'}
            </button>
          </div>
        </form>
      )}
    </Dialog>
  );
}
