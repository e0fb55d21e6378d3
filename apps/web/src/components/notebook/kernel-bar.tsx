'use client';
import { GPU_TYPE_NAMES } from '@kiln/scheduler/gpu-types';
import { Cpu } from 'lucide-react';
import { type ReactNode, useEffect, useRef, useState } from 'react';
import { type ExecutionView, formatElapsed, type KernelStatus } from '../../lib/notebook/execution-view.ts';
import { Dialog } from '../dialog.tsx';
import { Tooltip } from '../ui/tooltip.tsx';
import { type Peer, PresenceAvatars } from './presence.tsx';
import type { KernelActions, MachineChoices } from './use-kernel-actions.ts';
import type { ConnectionStatus } from './use-notebook-session.ts';

const STATUS_LABEL: Record<KernelStatus, string> = {
  none: 'No kernel',
  queued: 'Waiting for a machine',
  starting: 'Starting',
  idle: 'Idle',
  busy: 'Busy',
  restarting: 'Restarting',
  reconnecting: 'Reconnecting',
  dead: 'Dead',
};

const CONNECTION_LABEL: Record<ConnectionStatus | 'saving', string> = {
  connecting: 'Connecting…',
  connected: 'Saved',
  saving: 'Saving…',
  offline: 'Offline: edits are kept and sent on reconnect',
  'signed-out': 'Signed out',
  'not-found': 'Not found',
  forbidden: 'Refused',
};

function gib(memoryMiB: number): number {
  return Math.round((memoryMiB / 1024) * 10) / 10;
}

function machineLabel(view: ExecutionView, resources: NotebookResources | null): string {
  // What the kernel actually got, never what was asked for: no GPU given shows no GPU.
  const granted = view.kernel.granted;
  if (granted) {
    const gpu = granted.gpu
      ? `${granted.gpu.count > 1 ? `${granted.gpu.count} × ` : ''}${granted.gpu.type}${granted.gpu.declared ? ' (declared)' : ''}`
      : 'no GPU';
    return `${granted.cpu} CPU · ${gib(granted.memoryMiB)} GB · ${gpu}`;
  }
  const machine = view.kernel.machine;
  if (!machine) {
    if (!resources) return 'Default machine';
    const gpu = resources.gpu.length > 0 ? resources.gpu.join(' or ') : 'no GPU';
    return `${resources.cpu} CPU · ${gib(resources.memoryMiB)} GB · ${gpu}`;
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

/** " · $0.59/h · starts now" for an option of the GPU select. */
function choiceNote(choice: MachineChoices['choices'][number] | undefined): string {
  if (!choice) return '';
  const verdict = { now: 'starts now', queue: 'would wait', refused: 'unavailable' }[choice.verdict];
  return ` · $${choice.pricePerHour.toFixed(2)}/h · ${verdict}`;
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
  const [machines, setMachines] = useState<MachineChoices | null>(null);
  // Once per opening of the dialog: `actions` is a new object on every render.
  const loadMachines = useRef(actions.machines);
  useEffect(() => {
    void loadMachines.current().then(setMachines);
  }, []);
  const choiceOf = (name: string) => machines?.choices.find((c) => (c.gpu ?? 'none') === name);
  const chosen = choiceOf(gpu);
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
          <option value="none">None (CPU only){choiceNote(choiceOf('none'))}</option>
          {[...new Set([...GPU_CHOICES, ...(resources?.gpu ?? [])])].map((choice) => (
            <option key={choice} value={choice} disabled={choiceOf(choice)?.verdict === 'refused'}>
              {choice}
              {choiceNote(choiceOf(choice))}
            </option>
          ))}
        </select>
      </label>
      {chosen?.reason ? (
        <p className="muted small" data-testid="machine-verdict">
          {chosen.verdict === 'refused' ? 'Not available: ' : ''}
          {chosen.reason}
        </p>
      ) : null}
      {machines ? (
        <p className="muted small">
          Prices at {machines.cpu} CPU and {gib(machines.memoryMiB)} GB on the {machines.plan} plan.
        </p>
      ) : null}
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
  saved: boolean;
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
  // "Saved" only once the server acknowledged storing the latest local edit, not merely on a connection.
  const connection =
    props.connection !== 'connected'
      ? props.connection
      : !props.synced
        ? 'connecting'
        : props.saved
          ? 'connected'
          : 'saving';
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
      {execution.kernel.reason && (status === 'dead' || status === 'reconnecting') ? (
        <span className="kernel-reason">{execution.kernel.reason}</span>
      ) : null}
      {status === 'queued' ? (
        <span className="kernel-reason" data-testid="kernel-queue">
          {execution.kernel.queue?.reason ?? execution.kernel.reason}
          {canEdit ? (
            <button type="button" className="btn btn-small" onClick={() => void actions.cancelStart()}>
              Cancel
            </button>
          ) : null}
        </span>
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
          kernelRunning={status !== 'none' && status !== 'dead' && status !== 'queued'}
          onClose={() => setMachineOpen(false)}
          onSaved={props.onResourcesSaved}
        />
      </Dialog>
    </div>
  );
}
