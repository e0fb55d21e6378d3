import type { DirectConnection } from '@kiln/collab';
import type { VolumeMountSpec } from '@kiln/kernel-protocol';
import type { GatewayClient, JupyterMessage, KernelModel } from '@kiln/kernel-protocol/client';
import type { OutputLimits, TruncationInfo } from '@kiln/notebook';
import type { OverflowStore } from './overflow-store.ts';

/**
 * Masks secret values in a kernel's output texts. `heldBack`, when given, says how many characters
 * at the end of a stream piece could begin a value, so that they wait for the next piece.
 */
export type Redact = ((text: string) => string) & { heldBack?: (text: string) => number };

/** Who asked for something; shown to every collaborator next to the cells it queued. */
export interface Requester {
  userId: string;
  name: string;
}

/** Which cells a run request executes; only code cells run, in notebook order. */
export type RunTarget =
  | { kind: 'cells'; cellIds: string[] }
  | { kind: 'all' }
  /** Every code cell before `cellId` (JupyterLab's "Run All Above Selected Cell"). */
  | { kind: 'above'; cellId: string }
  /** `cellId` and every code cell after it (JupyterLab's "Run Selected Cell and All Below"). */
  | { kind: 'below'; cellId: string };

/** What the resources of a notebook's kernel are, as the gateway's `POST /api/kernels` takes them. */
export type KernelResources = NonNullable<Parameters<GatewayClient['startKernel']>[0]>['resources'];

/** A workspace image as the gateway's `POST /api/kernels` takes it (`kernelImage` of @kiln/images/store). */
export type KernelImage = NonNullable<Parameters<GatewayClient['startKernel']>[0]>['image'];

export interface RunRequest {
  notebookId: string;
  /** The notebook's workspace: its kernel runs there (fixed by the first request for the notebook). */
  workspaceId: string;
  target: RunTarget;
  user: Requester;
  /** Resources for the kernel if this request has to start it; ignored while a kernel is running. */
  resources?: KernelResources;
  /** Extra environment for the kernel if this request has to start it. */
  env?: Record<string, string>;
  /** Named volumes for the kernel if this request has to start it (mounted at /vol/<name>). */
  volumes?: VolumeMountSpec[];
  /** The workspace image the kernel starts from if this request has to start it (none: the base image). */
  image?: KernelImage;
  /**
   * With `env`: applied to every text the kernel it starts outputs, before the text is stored or
   * shown (e.g. replacing secret values with `********`); kept for that kernel's whole life.
   */
  redact?: Redact;
}

/** What `run` queued. */
export interface RunTicket {
  requestId: string;
  /** The code cells queued, in the order they will run (cells already queued are not queued twice). */
  cellIds: string[];
}

/** The open kernel websocket; `KernelChannel` from `@kiln/kernel-protocol/client` is one. */
export interface KernelConnection {
  onMessage(listener: (message: JupyterMessage) => void): () => void;
  message(
    channel: JupyterMessage['channel'],
    msgType: string,
    content: Record<string, unknown>,
  ): JupyterMessage;
  send(message: JupyterMessage): void;
  close(): Promise<unknown>;
  readonly closed: Promise<{ code: number; reason: string }>;
}

/** Where a kernel waits for a machine: "waiting for an H100: 2 ahead", and when it gives up. */
export interface KernelQueueView {
  position: number;
  ahead: number;
  reason: string;
  /** Milliseconds since the epoch. */
  deadline: number;
}

/** What a kernel actually got, which may differ from what the notebook asks for. */
export interface KernelGrant {
  cpu: number;
  memoryMiB: number;
  /** Null when it got no GPU; `declared` marks a GPU configured by hand for development. */
  gpu: { type: string; count: number; declared: boolean } | null;
  node: string | null;
}

/** How a kernel start is asked for beyond its body: who asks, and how to follow or cancel a wait. */
export interface StartKernelOptions {
  requestedById?: string;
  /** Aborting gives up the start (and the kernel's place in the queue). */
  signal?: AbortSignal;
  /** Called while the kernel waits for a machine, whenever its place in the queue changes. */
  onQueued?(queue: KernelQueueView): void;
}

/** The part of the gateway client the service uses; `createGatewayClient(...)` returns one. */
export interface ExecutionGateway {
  startKernel(
    body: Parameters<GatewayClient['startKernel']>[0],
    options?: StartKernelOptions,
  ): Promise<KernelModel & { granted?: KernelGrant }>;
  interruptKernel(kernelId: string): Promise<void>;
  restartKernel(kernelId: string): Promise<KernelModel>;
  shutdownKernel(kernelId: string): Promise<void>;
  /**
   * Opens the kernel's channels websocket. With `ack` (Kiln's extension), the session acknowledges what
   * it stored and the gateway replays what it sent and was not acknowledged, from after `lastStored`.
   */
  connect(
    kernelId: string,
    channel: { sessionId?: string; ack?: { lastStored: string | null } },
  ): Promise<KernelConnection>;
  /**
   * Checkpoints the kernel now, variables kept; any later message wakes it. Needed for `pause`. With
   * `reason`, every client of the kernel (whichever process holds it) is told it is paused and why.
   */
  hibernateKernel?(kernelId: string, reason?: string): Promise<unknown>;
  /** Gives up the queued wake-up of a hibernated kernel whose room was taken (the kernel then stops). */
  cancelQueued?(kernelId: string): Promise<void>;
  /** The kernel as the gateway sees it; a re-attach reads whether Kiln paused it (it then stays asleep). */
  getKernel?(kernelId: string): Promise<KernelModel>;
}

export interface ExecutionLimits {
  /** Caps on what one cell keeps in the shared document (see `OutputLimits` in @kiln/notebook). */
  output: Partial<OutputLimits>;
  /** Bytes of cut-off output kept for download (the memory store: across all notebooks; the Postgres store: per notebook), oldest evicted first. */
  overflowBytes: number;
  /** Bytes kept for one overflow key; past it the download is marked incomplete. */
  overflowEntryBytes: number;
  /** Most cells waiting in one notebook's queue; more is refused with RATE_LIMITED. */
  maxQueuedCells: number;
  /** Most iopub-routing entries remembered per notebook (late output from threads still lands in its cell). */
  maxRoutes: number;
  /** Milliseconds to wait for the kernel's answer to a completion or inspection before answering empty. */
  assistTimeoutMs: number;
}

export const DEFAULT_LIMITS: ExecutionLimits = {
  output: {},
  overflowBytes: 64 * 1024 * 1024,
  overflowEntryBytes: 16 * 1024 * 1024,
  maxQueuedCells: 2000,
  maxRoutes: 200,
  assistTimeoutMs: 3000,
};

/** What went wrong outside any caller's request (a store write, a gateway call during cleanup). */
export interface ExecutionErrorPayload {
  notebookId: string;
  error: unknown;
  stage: string;
}

export interface ExecutionServiceOptions {
  /** The gateway acting for one workspace's notebook, e.g. `createGatewayClient({ baseUrl, token, workspaceId })`. */
  gateway(workspaceId: string, notebookId: string): ExecutionGateway;
  /** The live, persisted document of a notebook, e.g. `collab.openDirectConnection(notebookId)`. */
  openDocument(notebookId: string): Promise<DirectConnection>;
  limits?: Partial<ExecutionLimits>;
  /** Milliseconds since the epoch; timestamps in the shared state come from it. */
  clock?: () => number;
  /** Kernel spec name to start (default: the gateway's default, python3). */
  kernelName?: string;
  onError?(payload: ExecutionErrorPayload): void;
  /** The note shown where output was cut; default `overflowNote` (carries `kiln-overflow:<key>`). */
  truncationNote?(info: TruncationInfo): string;
  /** Where cut-off output goes; default an in-memory store bounded by `limits.overflowBytes`. */
  overflowStore?: OverflowStore;
  /**
   * Where each notebook's kernel is recorded while it lives, so `resume()` in a restarted process
   * re-attaches to it; default none (kernels then die with the process that started them).
   */
  kernelStore?: KernelStore;
  /** How long `resume()` and a broken kernel connection keep trying to reach the gateway (default 30 s). */
  reattachMs?: number;
  /**
   * Why a recorded kernel waits for its lost machine to come back with it (the scheduler keeps that
   * in the database), asked before `resume()` re-attaches to it; null when its machine is not lost.
   * Such a kernel is resumed `away`: its queue waits for `kernelBack` or `kernelLost`.
   */
  kernelAway?(kernelId: string): Promise<string | null>;
  /**
   * Prices a finished cell's run: what the kernel's machine cost between its start and end (e.g. the
   * usage ledger's rates). Written into the cell's run metadata; null or a failure leaves it unpriced.
   */
  runCost?(run: CellRunWindow): Promise<RunCostView | null>;
}

/** One finished cell run, for `runCost`. Times are milliseconds since the epoch. */
export interface CellRunWindow {
  workspaceId: string;
  notebookId: string;
  kernelId: string;
  cellId: string;
  startedAt: number;
  endedAt: number;
}

/** What a run cost, in micro-dollars, and the kernel's rate per hour. */
export interface RunCostView {
  costMicros: number;
  ratePerHourMicros: number;
}

/** A notebook's kernel as recorded for a restarted web process to re-attach to. */
export interface KernelRecord {
  notebookId: string;
  workspaceId: string;
  kernelId: string;
  /** The session id of the channel: the gateway replays what it buffered for this session. */
  sessionId: string;
  /** The cell executing and the msg_id of its execute_request, whose output the replay carries. */
  running: (QueuedCellView & { startedAt: number; msgId: string }) | null;
  queue: QueuedCellView[];
  resources?: KernelResources;
}

/** Keeps kernel records; `createPostgresKernelStore(db, ...)` uses the NotebookKernel table. */
export interface KernelStore {
  save(record: KernelRecord): Promise<void>;
  remove(notebookId: string): Promise<void>;
  list(): Promise<KernelRecord[]>;
  /**
   * Only the records of other processes whose lease ran out (and unowned ones), made this process's;
   * never its own. What a running process takes over from one that died after it started.
   */
  claim?(): Promise<KernelRecord[]>;
}

/** What `resume()` found for one recorded kernel. */
export interface ResumeResult {
  notebookId: string;
  /**
   * `attached`: running on, output replayed; `gone`: the gateway no longer has it; `unreachable`: no
   * gateway answered; `away`: its machine is lost and may come back (watch `kernelId` for it).
   */
  outcome: 'attached' | 'gone' | 'unreachable' | 'away';
  reason: string | null;
  /** With `away`: the kernel whose machine may come back. */
  kernelId?: string;
}

/** The kernel's completions; offsets are UTF-16 offsets into the code sent (JavaScript string indices). */
export interface CompletionResult {
  matches: string[];
  /** The range of the code that each match replaces. */
  cursorStart: number;
  cursorEnd: number;
  /** The kernel's metadata; IPython's `_jupyter_types_experimental` entries get UTF-16 `start`/`end` too. */
  metadata: Record<string, unknown>;
}

/** What the kernel knows about a name: a MIME bundle (`text/plain` from IPython carries ANSI colours). */
export interface InspectionResult {
  found: boolean;
  data: Record<string, unknown>;
}

/** Every status a kernel can have in `state.execution.kernel.status`, for validating peers' writes. */
export const KERNEL_STATUSES = [
  'none',
  'queued',
  'starting',
  'idle',
  'busy',
  'restarting',
  'reconnecting',
  /** Hibernated by Kiln with its variables kept (e.g. a spending cap); `reason` says why and what to do. */
  'paused',
  'dead',
] as const;

/** The kernel as collaborators see it in `state.execution.kernel.status`. */
export type KernelStatus = (typeof KERNEL_STATUSES)[number];

/** One cell waiting in the queue. */
export interface QueuedCellView {
  cellId: string;
  requestId: string;
  by: Requester;
  /** Milliseconds since the epoch. */
  queuedAt: number;
}

/**
 * What every collaborator reads from the notebook doc's `state` map under `execution` (a plain
 * JSON value, replaced whole on every change).
 */
export interface ExecutionStateView {
  kernel: {
    status: KernelStatus;
    /** Why the kernel is dead or failed to start, or what it waits for, written for a person. */
    reason: string | null;
    kernelId: string | null;
    /** While `queued`: its place in the queue for a machine. */
    queue?: KernelQueueView | null;
    /** Once started: what it actually got. */
    granted?: KernelGrant | null;
  };
  /** The cell executing now; clients show elapsed time from `startedAt`. */
  running: (QueuedCellView & { startedAt: number }) | null;
  queue: QueuedCellView[];
  /** The kernel is waiting for `input()`: any collaborator may answer with `answerInput`. */
  input: { cellId: string; prompt: string; password: boolean; requestedAt: number } | null;
  /** Milliseconds since the epoch of the last change. */
  updatedAt: number;
}

/** Server-side execution of notebook cells: one queue and one kernel per notebook. */
export interface ExecutionService {
  /** Queues cells; resolves once they show as queued in the document (not when they finish). */
  run(request: RunRequest): Promise<RunTicket>;
  /** Resolves when the notebook's queue is empty and nothing runs. */
  whenIdle(notebookId: string): Promise<void>;
  /** Interrupts the running cell (it ends with KeyboardInterrupt) and clears the queue. */
  interrupt(notebookId: string): Promise<void>;
  /** Clears the queue and restarts the kernel with a fresh interpreter; resolves when it is ready. */
  restart(notebookId: string): Promise<void>;
  /** Shuts the notebook's kernel down; the next run starts a new one. */
  shutdown(notebookId: string): Promise<void>;
  /** Gives up a kernel start waiting for a machine; its cells stop waiting. False when none waits. */
  cancelStart(notebookId: string): Promise<boolean>;
  /**
   * Hibernates the kernel `kernelId` (variables kept) because of `reason` (a spending cap), which the
   * kernel bar shows; cells waiting behind it stop waiting, a running cell resumes when the kernel
   * wakes. The next run wakes it. False when no notebook of this service holds that kernel.
   */
  pause(kernelId: string, reason: string): Promise<boolean>;
  /** The notebook's kernel is gone for good (its node did not bring it back): say why. */
  kernelLost(notebookId: string, kernelId: string, reason: string): void;
  /**
   * The scheduler declared the kernel's node lost, but the node may come back with it: the running cell
   * ends with `reason`, the kernel bar shows it, and the kernel and its variables are kept. False when no
   * notebook of this service holds that kernel.
   */
  kernelAway(notebookId: string, kernelId: string, reason: string): boolean;
  /**
   * The kernel's node came back with it: the notebook connects again and says the kernel is back.
   * False when the notebook is not open here or the kernel could not be reached after all.
   */
  kernelBack(notebookId: string, kernelId: string): Promise<boolean>;
  /**
   * Completions at `cursorPos` (a UTF-16 offset in `code`) from the notebook's kernel. Empty when it has
   * no running kernel (none is started for this), a cell runs or waits, or the kernel is slow to answer.
   */
  complete(notebookId: string, code: string, cursorPos: number): Promise<CompletionResult>;
  /** The kernel's help for the name at `cursorPos` (UTF-16 offset); not found in the cases `complete` is empty. */
  inspect(notebookId: string, code: string, cursorPos: number, detailLevel: 0 | 1): Promise<InspectionResult>;
  /** Answers the pending `input()` of the notebook's running cell. */
  answerInput(notebookId: string, value: string): Promise<void>;
  /** The notebook's current execution state (what the document shows), or null if it never ran. */
  state(notebookId: string): ExecutionStateView | null;
  /** Cut-off output, by the key shown in the truncation note. */
  readonly overflow: OverflowStore;
  /** Shuts every kernel down and releases every document. */
  dispose(): Promise<void>;
  /**
   * Re-attaches to every kernel in the kernel store (call once at start): output produced meanwhile
   * is written into the notebooks and their queues go on. A kernel that is gone is reported in the
   * cell that was running and in the kernel status, with the reason.
   */
  resume(): Promise<ResumeResult[]>;
  /**
   * Takes over the kernels of other web processes whose lease ran out since this one started (call
   * periodically, see `startKernelTakeover`), as `resume()` does at start; never its own kernels.
   */
  takeOver(): Promise<ResumeResult[]>;
  /**
   * Releases every document and closes the kernel connections but leaves the kernels running and
   * recorded, for the next process to `resume()` (a graceful stop of the web server).
   */
  detach(): Promise<void>;
}
