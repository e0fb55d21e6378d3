import type { ImageSpec } from '@kiln/images';
import type { JupyterMessage, ResourceRequest, VolumeMountSpec } from '@kiln/kernel-protocol';

export type { JupyterMessage, ResourceRequest, VolumeMountSpec };

/** Everything needed to start one kernel sandbox. */
export interface KernelSandboxOptions {
  kernelId: string;
  workspaceId: string;
  resources: ResourceRequest;
  /** Extra env vars for the kernel (later: secrets). */
  env?: Record<string, string>;
  /** The workspace's disk quota from its plan, in MiB; capped by the operator's maximum. */
  diskMiB?: number;
  /** Named volumes mounted at their `target` (/vol/<name>), each with its own quota. */
  volumes?: VolumeMountSpec[];
  /** The workspace image (packages over the base image) to start from; none: the base image. */
  image?: ImageSpec;
  /**
   * Python the sandbox should already have run (an endpoint version's module): restored from a snapshot
   * taken after running it when this node has one (`startedFrom` is then `module`), else started as usual
   * while that snapshot is built for the next start. Only for code whose import reads no secrets.
   */
  module?: { code: string };
  /**
   * Aborted when the kernel is shut down while its sandbox starts: the driver may give up early. The
   * registry stops a sandbox that started anyway.
   */
  signal?: AbortSignal;
}

/** Why a kernel sandbox stopped, written for a person (e.g. "ran out of memory: limit 2048 MiB"). */
export type ExitReason = {
  kind: 'exited' | 'killed' | 'oom' | 'crashed';
  message: string;
  code?: number | null;
};

/** One running kernel inside its own sandbox. */
export interface KernelSandbox {
  readonly id: string;
  readonly startedFrom: 'cold' | 'snapshot' | 'pool' | 'module';
  /** Shell/control/stdin requests to the kernel. */
  send(message: JupyterMessage): void;
  /** Replies + iopub from the kernel. */
  onMessage(listener: (message: JupyterMessage) => void): () => void;
  /** E.g. "ran out of memory: limit 2048 MiB". */
  onExit(listener: (reason: ExitReason) => void): () => void;
  /**
   * Must stop `while True: pass` within 200 ms. With `executionId`, only that execute_request, and only
   * if it is the one running: a request queued behind it, or already past it, is left alone.
   */
  interrupt(executionId?: string): Promise<void>;
  /** Fresh interpreter, same sandbox/volume ok. */
  restart(): Promise<void>;
  /** Checkpoint to disk and free memory. */
  hibernate(): Promise<void>;
  /** Restore from the hibernation checkpoint with variables intact. */
  resume(): Promise<void>;
  /** A real pty running a shell INSIDE the sandbox. */
  openTerminal(options: { cols: number; rows: number }): TerminalPty;
  shutdown(): Promise<void>;
}

/** A pseudo-terminal running inside a sandbox. */
export interface TerminalPty {
  write(data: string): void;
  resize(cols: number, rows: number): void;
  onData(listener: (data: string) => void): () => void;
  onExit(listener: (code: number) => void): () => void;
  kill(): void;
}

/** A kernel sandbox a gateway that died left behind, taken over by this one. */
export interface AdoptedSandbox {
  sandbox: KernelSandbox;
  /** It was hibernated (checkpointed); the next message restores it. */
  hibernated: boolean;
  /**
   * A sandbox left running: takes its agent back. Call it once the sandbox's messages have a listener, so
   * nothing the agent sends on reconnecting is dropped; messages sent meanwhile wait for the agent.
   * Resolves with whether a cell still runs; rejects with why it cannot be taken back (the sandbox is
   * then stopped).
   */
  reconnect?: () => Promise<{ busy: boolean }>;
}

/** Starts kernel sandboxes (runsc locally, Pods on Kubernetes later). */
export interface SandboxDriver {
  /** Throws DomainError with a clear message. */
  start(options: KernelSandboxOptions): Promise<KernelSandbox>;
  /**
   * Re-adopts the sandbox of driver kernel `kernelId` that a gateway process which died left running (or
   * hibernated), variables intact, without waiting for its agent (`reconnect` does, for up to
   * `agentTimeoutMs`). Throws an Error saying why it cannot be (the sandbox is then stopped). Drivers
   * that cannot re-adopt leave this out.
   */
  adopt?(kernelId: string, options?: { agentTimeoutMs?: number }): Promise<AdoptedSandbox>;
  /** Stops every sandbox left by a dead gateway that was not re-adopted; returns their ids. */
  reapUnadopted?(): Promise<string[]>;
  /** Memory used outside kernels (what warm spares use now), which the scheduler must not hand out. */
  reservedMemoryMiB?(): Promise<number>;
  capabilities(): { gpu: boolean; gpuReason?: string; checkpoint: boolean; runscVersion: string };
  close(): Promise<void>;
}
