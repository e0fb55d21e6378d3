'use client';
import { Cpu } from 'lucide-react';
import Link from 'next/link';
import { useParams } from 'next/navigation';
import { type ReactNode, useEffect, useRef, useState } from 'react';
import { type ExecutionView, formatElapsed, type KernelStatus } from '../../lib/notebook/execution-view.ts';
import { Dialog } from '../dialog.tsx';
import { Tooltip } from '../ui/tooltip.tsx';
import { ImageSelect } from './image-select.tsx';
import { MachinePicker, type MachineValue, machineOf } from './machine-picker.tsx';
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
  paused: 'Paused',
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
  const image = resources?.image ? ` · ${resources.image.name}` : '';
  return `${hardwareLabel(view, resources)}${image}`;
}

function hardwareLabel(view: ExecutionView, resources: NotebookResources | null): string {
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
  /** The workspace image its kernel starts from; null or absent: Kiln's base image. */
  image?: { id: string; name: string } | null;
}

function ChangeMachine(props: {
  actions: KernelActions;
  resources: NotebookResources | null;
  kernelRunning: boolean;
  onClose(): void;
  onSaved(): void;
}) {
  const { actions, resources } = props;
  const [machine, setMachine] = useState<MachineValue>({
    cpu: String(resources?.cpu ?? 1),
    memoryGiB: String((resources?.memoryMiB ?? 2048) / 1024),
    gpu: resources?.gpu[0] ?? 'none',
  });
  const [image, setImage] = useState(resources?.image?.id ?? 'base');
  const [restart, setRestart] = useState(props.kernelRunning);
  const [error, setError] = useState<string | null>(null);
  const [machines, setMachines] = useState<MachineChoices | null>(null);
  // Once per opening of the dialog: `actions` is a new object on every render.
  const loadMachines = useRef(actions.machines);
  useEffect(() => {
    void loadMachines.current().then(setMachines);
  }, []);
  return (
    <form
      className="form"
      onSubmit={async (event) => {
        event.preventDefault();
        const saved = await actions.setResources(machineOf(machine));
        const imageId = image === 'base' ? null : image;
        const imageSaved =
          saved && imageId !== (resources?.image?.id ?? null) ? await actions.setImage(imageId) : saved;
        if (!saved || !imageSaved) {
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
      <MachinePicker
        value={machine}
        onChange={setMachine}
        choices={machines}
        extraGpus={resources?.gpu ?? []}
      />
      <ImageSelect
        value={image}
        onChange={setImage}
        images={
          machines?.images ?? (resources?.image ? [{ ...resources.image, state: 'ready', usable: true }] : [])
        }
      />
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
  const { slug } = useParams<{ slug?: string }>();
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
      {execution.kernel.reason &&
      (status === 'dead' || status === 'reconnecting' || status === 'idle' || status === 'busy') ? (
        <span className="kernel-reason">{execution.kernel.reason}</span>
      ) : null}
      {status === 'paused' ? (
        <span className="kernel-reason" data-testid="kernel-paused">
          {execution.kernel.reason}{' '}
          {slug ? (
            <Link href={`/w/${slug}/usage`} className="btn btn-small">
              Usage and upgrade
            </Link>
          ) : null}
        </span>
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
        <Tooltip content="Change machine: CPU, memory, GPU and image of the next kernel">
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
