import type { JupyterMessage, ResourceRequest } from '@kiln/kernel-protocol';

export type { JupyterMessage, ResourceRequest };

/** Everything needed to start one kernel sandbox. */
export interface KernelSandboxOptions {
  kernelId: string;
  workspaceId: string;
  resources: ResourceRequest;
  /** Extra env vars for the kernel (later: secrets). */
  env?: Record<string, string>;
  /** The workspace's disk quota from its plan, in MiB; capped by the operator's maximum. */
  diskMiB?: number;
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
  readonly startedFrom: 'cold' | 'snapshot' | 'pool';
  /** Shell/control/stdin requests to the kernel. */
  send(message: JupyterMessage): void;
  /** Replies + iopub from the kernel. */
  onMessage(listener: (message: JupyterMessage) => void): () => void;
  /** E.g. "ran out of memory: limit 2048 MiB". */
  onExit(listener: (reason: ExitReason) => void): () => void;
  /** Must stop `while True: pass` within 200 ms. */
  interrupt(): Promise<void>;
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

/** Starts kernel sandboxes (runsc locally, Pods on Kubernetes later). */
export interface SandboxDriver {
  /** Throws DomainError with a clear message. */
  start(options: KernelSandboxOptions): Promise<KernelSandbox>;
  capabilities(): { gpu: boolean; gpuReason?: string; checkpoint: boolean; runscVersion: string };
  close(): Promise<void>;
}
