'use client';
import { useEffect, useState } from 'react';
import { Dialog } from '../dialog.tsx';
import { type ExecutionView, formatElapsed, type KernelStatus } from '../../lib/notebook/execution-view.ts';
import { PresenceAvatars, type Peer } from './presence.tsx';
import type { KernelActions } from './use-kernel-actions.ts';
import type { ConnectionStatus } from './use-notebook-session.ts';

const STATUS_LABEL: Record<KernelStatus, string> = {
  none: 'No kernel',
  starting: 'Starting',
  idle: 'Idle',
  busy: 'Busy',
  restarting: 'Restarting',
  dead: 'Dead',
};

const CONNECTION_LABEL: Record<ConnectionStatus, string> = {
  connecting: 'Connecting…',
  connected: 'Saved',
  offline: 'Offline: edits are kept and sent on reconnect',
  'signed-out': 'Signed out',
  'not-found': 'Not found',
  forbidden: 'Refused',
};

function machineLabel(view: ExecutionView): string {
  const machine = view.kernel.machine;
  if (!machine) return 'Default machine';
  const parts = [
    machine.cpu ? `${machine.cpu} CPU` : null,
    machine.memoryGb ? `${machine.memoryGb} GB` : null,
    machine.gpu ? machine.gpu : 'no GPU',
  ];
  return parts.filter(Boolean).join(' · ');
}

function Elapsed({ since }: { since: number }) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  return <span className="nowrap">{formatElapsed(now - since)}</span>;
}

function ChangeMachine({ actions, onClose }: { actions: KernelActions; onClose(): void }) {
  const [gpu, setGpu] = useState('none');
  const [error, setError] = useState<string | null>(null);
  return (
    <form
      className="form"
      onSubmit={async (event) => {
        event.preventDefault();
        const ok = await actions.changeMachine({ gpu: gpu === 'none' ? null : gpu });
        if (ok) onClose();
        else setError(actions.available('changeMachine') ? 'The machine could not be changed.' : 'Changing machines is not available on this server yet.');
      }}
    >
      <p className="muted small">The kernel restarts on the new machine; variables are lost.</p>
      <label className="field">
        <span>GPU</span>
        <select className="select" value={gpu} onChange={(event) => setGpu(event.target.value)}>
          <option value="none">None (CPU only)</option>
          <option value="T4">NVIDIA T4</option>
          <option value="A10G">NVIDIA A10G</option>
          <option value="A100">NVIDIA A100</option>
          <option value="H100">NVIDIA H100</option>
        </select>
      </label>
      {error ? (
        <div className="alert alert-error" role="alert">
          {error}
        </div>
      ) : null}
      <div className="dialog-actions">
        <button type="button" className="btn" onClick={onClose}>
          Cancel
        </button>
        <button type="submit" className="btn btn-primary">
          Change machine
        </button>
      </div>
    </form>
  );
}

/** Kernel state, machine, elapsed time, kernel controls, connection state and who is here. */
export function KernelBar(props: {
  execution: ExecutionView;
  connection: ConnectionStatus;
  synced: boolean;
  canEdit: boolean;
  actions: KernelActions;
  peers: readonly Peer[];
  terminalOpen: boolean;
  onToggleTerminal(): void;
}) {
  const { execution, actions, canEdit } = props;
  const [machineOpen, setMachineOpen] = useState(false);
  const status = execution.kernel.status;
  const since = execution.running?.startedAt ?? null;
  const connection = props.connection === 'connected' && !props.synced ? 'connecting' : props.connection;
  return (
    <div className="kernel-bar">
      <span className={`kernel-status kernel-${status}`} role="status" aria-label={`Kernel: ${STATUS_LABEL[status]}`}>
        <span className="kernel-dot" aria-hidden="true" />
        {STATUS_LABEL[status]}
      </span>
      {execution.kernel.reason && status === 'dead' ? <span className="kernel-reason">{execution.kernel.reason}</span> : null}
      <span className="muted small">{machineLabel(execution)}</span>
      {since !== null ? (
        <span className="small">
          Running <Elapsed since={since} />
          {execution.queue.length > 0 ? ` · ${execution.queue.length} queued` : ''}
        </span>
      ) : null}
      {canEdit ? (
        <span className="kernel-actions">
          <button type="button" className="btn btn-small btn-ghost" disabled={!actions.available('interrupt')} onClick={() => void actions.interrupt()}>
            Interrupt kernel
          </button>
          <button type="button" className="btn btn-small btn-ghost" disabled={!actions.available('restart')} onClick={() => void actions.restart()}>
            Restart kernel
          </button>
          <button type="button" className="btn btn-small btn-ghost" disabled={!actions.available('shutdown') || status === 'none'} onClick={() => void actions.shutdown()}>
            Shut down
          </button>
          <button type="button" className="btn btn-small btn-ghost" onClick={() => setMachineOpen(true)}>
            Change machine
          </button>
          <button type="button" className="btn btn-small btn-ghost" aria-pressed={props.terminalOpen} onClick={props.onToggleTerminal}>
            Terminal
          </button>
        </span>
      ) : null}
      <span className="header-spacer" />
      <span className={`connection connection-${connection}`} role="status">
        {CONNECTION_LABEL[connection]}
      </span>
      <PresenceAvatars peers={props.peers} />
      <Dialog open={machineOpen} title="Change machine" onClose={() => setMachineOpen(false)}>
        <ChangeMachine actions={actions} onClose={() => setMachineOpen(false)} />
      </Dialog>
    </div>
  );
}
