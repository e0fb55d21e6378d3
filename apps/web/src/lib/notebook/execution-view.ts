import {
  KERNEL_STATUSES,
  type KernelGrant,
  type KernelQueueView,
  type KernelStatus,
} from '@kiln/execution/types';

/** The kernel as collaborators see it (written by @kiln/execution into `state.execution`). */
export type { KernelStatus };

/** What the running kernel actually got from the scheduler (no GPU is `null`); the node stays server-side. */
export type KernelGrantView = Omit<KernelGrant, 'node'>;

export interface Requester {
  userId: string;
  name: string;
}

export interface QueuedCell {
  cellId: string;
  requestId: string;
  by: Requester;
  queuedAt: number;
}

/** What the machine running the kernel offers, when the execution service reports it. */
export interface MachineView {
  cpu: number | null;
  memoryGb: number | null;
  gpu: string | null;
}

/** Where a kernel waits for a machine ("waiting for an H100: 2 ahead"). */
export type KernelQueue = KernelQueueView;

/** Mirrors `ExecutionStateView` of @kiln/execution; read defensively since any peer could write it. */
export interface ExecutionView {
  kernel: {
    status: KernelStatus;
    reason: string | null;
    kernelId: string | null;
    startedAt: number | null;
    machine: MachineView | null;
    queue: KernelQueue | null;
    granted: KernelGrantView | null;
  };
  running: (QueuedCell & { startedAt: number }) | null;
  queue: QueuedCell[];
  input: { cellId: string; prompt: string; password: boolean; requestedAt: number } | null;
}

export const IDLE_VIEW: ExecutionView = {
  kernel: {
    status: 'none',
    reason: null,
    kernelId: null,
    startedAt: null,
    machine: null,
    queue: null,
    granted: null,
  },
  running: null,
  queue: [],
  input: null,
};

const STATUSES = new Set<string>(KERNEL_STATUSES);
const obj = (value: unknown): Record<string, unknown> | null =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : null;
const str = (value: unknown): string | null => (typeof value === 'string' ? value : null);
const num = (value: unknown): number | null =>
  typeof value === 'number' && Number.isFinite(value) ? value : null;

function queued(value: unknown): QueuedCell | null {
  const o = obj(value);
  const by = obj(o?.by);
  const cellId = str(o?.cellId);
  if (!o || !cellId) return null;
  return {
    cellId,
    requestId: str(o.requestId) ?? '',
    by: { userId: str(by?.userId) ?? '', name: str(by?.name) ?? 'Someone' },
    queuedAt: num(o.queuedAt) ?? 0,
  };
}

function machine(value: unknown): MachineView | null {
  const o = obj(value);
  if (!o) return null;
  return { cpu: num(o.cpu), memoryGb: num(o.memoryGb), gpu: str(o.gpu) };
}

function kernelQueue(value: unknown): KernelQueue | null {
  const o = obj(value);
  const reason = str(o?.reason);
  if (!o || !reason) return null;
  return { position: num(o.position) ?? 0, ahead: num(o.ahead) ?? 0, reason, deadline: num(o.deadline) ?? 0 };
}

function grant(value: unknown): KernelGrantView | null {
  const o = obj(value);
  const cpu = num(o?.cpu);
  const memoryMiB = num(o?.memoryMiB);
  if (!o || cpu === null || memoryMiB === null) return null;
  const gpu = obj(o.gpu);
  const type = str(gpu?.type);
  return {
    cpu,
    memoryMiB,
    gpu: gpu && type ? { type, count: num(gpu.count) ?? 1, declared: gpu.declared === true } : null,
  };
}

/** Parses the `execution` entry of the doc's `state` map; anything malformed reads as idle. */
export function parseExecutionView(value: unknown): ExecutionView {
  const o = obj(value);
  if (!o) return IDLE_VIEW;
  const kernel = obj(o.kernel);
  const status = str(kernel?.status) as KernelStatus | null;
  const running = queued(o.running);
  const input = obj(o.input);
  const inputCell = str(input?.cellId);
  return {
    kernel: {
      status: status !== null && STATUSES.has(status) ? status : 'none',
      reason: str(kernel?.reason),
      kernelId: str(kernel?.kernelId),
      startedAt: num(kernel?.startedAt),
      machine: machine(kernel?.machine),
      queue: kernelQueue(kernel?.queue),
      granted: grant(kernel?.granted),
    },
    running: running ? { ...running, startedAt: num(obj(o.running)?.startedAt) ?? running.queuedAt } : null,
    queue: Array.isArray(o.queue) ? o.queue.map(queued).filter((q): q is QueuedCell => q !== null) : [],
    input: inputCell
      ? {
          cellId: inputCell,
          prompt: str(input?.prompt) ?? '',
          password: input?.password === true,
          requestedAt: num(input?.requestedAt) ?? 0,
        }
      : null,
  };
}

/** "0.4s", "12s", "3m 05s", "1h 02m": elapsed time as the running cell shows it. */
export function formatElapsed(ms: number): string {
  const seconds = Math.max(0, ms) / 1000;
  if (seconds < 10) return `${seconds.toFixed(1)}s`;
  const s = Math.floor(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}
