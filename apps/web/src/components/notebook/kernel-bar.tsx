'use client';
import { GPU_TYPE_NAMES } from '@kiln/scheduler/gpu-types';
import { Cpu } from 'lucide-react';
import { type ReactNode, useEffect, useState } from 'react';
import { type ExecutionView, formatElapsed, type KernelStatus } from '../../lib/notebook/execution-view.ts';
import { Dialog } from '../dialog.tsx';
import { Tooltip } from '../ui/tooltip.tsx';
import { type Peer, PresenceAvatars } from './presence.tsx';
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

function machineLabel(view: ExecutionView, resources: NotebookResources | null): string {
  const machine = view.kernel.machine;
  if (!machine) {
    if (!resources) return 'Default machine';
    const gpu = resources.gpu.length > 0 ? resources.gpu.join(' or ') : 'no GPU';
    return `${resources.cpu} CPU · ${Math.round((resources.memoryMiB / 1024) * 10) / 10} GB · ${gpu}`;
  }
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

/** Resources of the notebook's kernel as `notebook.get` returns them. */
export interface NotebookResources {
  cpu: number;
  memoryMiB: number;
  gpu: string[];
}

// The scheduler's catalog, so the dialog offers exactly the GPU strings the server accepts.
const GPU_CHOICES: readonly string[] = GPU_TYPE_NAMES;

function ChangeMachine(props: {
  actions: KernelActions;
  resources: NotebookResources | null;
  kernelRunning: boolean;
  onClose(): void;
  onSaved(): void;
}) {
  const { actions, resources } = props;
  const [cpu, setCpu] = useState(String(resources?.cpu ?? 1));
  const [memoryGiB, setMemoryGiB] = useState(String((resources?.memoryMiB ?? 2048) / 1024));
  const [gpu, setGpu] = useState(resources?.gpu[0] ?? 'none');
  const [restart, setRestart] = useState(props.kernelRunning);
  const [error, setError] = useState<string | null>(null);
  return (
    <form
      className="form"
      onSubmit={async (event) => {
        event.preventDefault();
        const saved = await actions.setResources({
          cpu: Number(cpu),
          memoryMiB: Math.round(Number(memoryGiB) * 1024),
          gpu: gpu === 'none' ? null : gpu,
        });
        if (!saved) {
          setError(actions.error ?? 'The machine could not be changed.');
          return;
        }
        props.onSaved();
        if (restart && props.kernelRunning) await actions.restartNow();
        props.onClose();
      }}
    >
      <p className="muted small">
        The next kernel start uses this machine; a running kernel keeps its own until it restarts.
      </p>
      <label className="field">
        <span>CPU cores</span>
        <input
          className="input"
          type="number"
          min="0.125"
          max="64"
          step="0.125"
          value={cpu}
          onChange={(e) => setCpu(e.target.value)}
        />
      </label>
      <label className="field">
        <span>Memory (GiB)</span>
        <input
          className="input"
          type="number"
          min="0.125"
          max="256"
          step="0.125"
          value={memoryGiB}
          onChange={(e) => setMemoryGiB(e.target.value)}
        />
      </label>
      <label className="field">
        <span>GPU</span>
        <select className="select" value={gpu} onChange={(event) => setGpu(event.target.value)}>
          <option value="none">None (CPU only)</option>
          {[...new Set([...GPU_CHOICES, ...(resources?.gpu ?? [])])].map((choice) => (
            <option key={choice} value={choice}>
              {choice}
            </option>
          ))}
        </select>
      </label>
      {props.kernelRunning ? (
        <label className="row small">
          <input type="checkbox" checked={restart} onChange={(e) => setRestart(e.target.checked)} /> Restart
          the kernel now (variables are lost)
        </label>
      ) : null}
      {error ? (
        <div className="alert alert-error" role="alert">
          {error}
        </div>
      ) : null}
      <div className="dialog-actions">
        <button type="button" className="btn" onClick={props.onClose}>
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
  resources: NotebookResources | null;
  onResourcesSaved(): void;
  /** The running kernel's cost so far and rate (billing supplies it). */
  cost?: ReactNode;
}) {
  const { execution, actions, canEdit } = props;
  const [machineOpen, setMachineOpen] = useState(false);
  const status = execution.kernel.status;
  const since = execution.running?.startedAt ?? null;
  const connection = props.connection === 'connected' && !props.synced ? 'connecting' : props.connection;
  return (
    <div className="kernel-bar">
      <span
        className={`kernel-status kernel-${status}`}
        role="status"
        aria-label={`Kernel: ${STATUS_LABEL[status]}`}
      >
        <span className="kernel-dot" aria-hidden="true" />
        {STATUS_LABEL[status]}
      </span>
      {execution.kernel.reason && status === 'dead' ? (
        <span className="kernel-reason">{execution.kernel.reason}</span>
      ) : null}
      {canEdit ? (
        <Tooltip content="Change machine: CPU, memory and GPU of the next kernel">
          <button type="button" className="btn-machine" onClick={() => setMachineOpen(true)}>
            <Cpu size={14} aria-hidden="true" />
            {machineLabel(execution, props.resources)}
          </button>
        </Tooltip>
      ) : (
        <span className="muted small" title="Machine">
          {machineLabel(execution, props.resources)}
        </span>
      )}
      {since !== null ? (
        <span className="small">
          Running <Elapsed since={since} />
          {execution.queue.length > 0 ? ` · ${execution.queue.length} queued` : ''}
        </span>
      ) : null}
      {props.cost}
      <span className="header-spacer" />
      <span className={`connection connection-${connection}`} role="status">
        {CONNECTION_LABEL[connection]}
      </span>
      <PresenceAvatars peers={props.peers} />
      <Dialog open={machineOpen} title="Change machine" onClose={() => setMachineOpen(false)}>
        <ChangeMachine
          actions={actions}
          resources={props.resources}
          kernelRunning={status !== 'none' && status !== 'dead'}
          onClose={() => setMachineOpen(false)}
          onSaved={props.onResourcesSaved}
        />
      </Dialog>
    </div>
  );
}
