import type { VersionSandbox } from '../store/version-sandbox.ts';

/** What running one piece of code in a replica produced. */
export type ExecuteOutcome =
  | { kind: 'ok'; results: unknown[] }
  /** The code raised: the Python error as text (traceback, colours removed). */
  | { kind: 'error'; error: string; ename: string }
  /** The replica died while running it (killed, out of memory, node lost). */
  | { kind: 'died'; reason: string }
  | { kind: 'timeout' };

/** One running replica: a sandbox placed by the scheduler with the endpoint's machine. */
export interface ReplicaHandle {
  /** The scheduler's container id. */
  readonly id: string;
  /** How it started: `module`, `snapshot`, `pool` or `cold` (as the gateway reports it). */
  readonly startedFrom: string;
  /**
   * Runs code; `results` are the payloads published with RESULT_MIME. `executionId` names the request
   * (unique per call) so that `interrupt` can aim at it.
   */
  execute(code: string, timeoutMs: number, executionId?: string): Promise<ExecuteOutcome>;
  /**
   * Interrupts what runs now; with `executionId`, only that execution, and only while it runs: a call
   * queued behind it or started after it ended is never hit.
   */
  interrupt(executionId?: string): Promise<void>;
  onExit(listener: (reason: string) => void): void;
  stop(reason: string): Promise<void>;
}

export interface ReplicaRequest {
  workspaceId: string;
  endpointId: string;
  requestedById: string | null;
  resources: { cpu: number; memoryMiB: number; gpu: string[] };
  /** The version's image, secrets and volumes; absent: the base image with none. */
  sandbox?: VersionSandbox;
  /**
   * The code that loads the version (`moduleCode`): a host may start the replica from a snapshot taken
   * after running it (`startedFrom` is then `module` and the code is not run again).
   */
  module?: string;
  /** Gives up waiting for a machine when aborted. */
  signal?: AbortSignal;
}

/** Starts replicas (the web app's: through the scheduler and the chosen node's gateway). */
export interface ReplicaHost {
  start(request: ReplicaRequest): Promise<ReplicaHandle>;
}

/** The host of a server that has no gateway to run replicas on: every start fails with `reason`. */
export function unavailableReplicaHost(reason: string): ReplicaHost {
  return { start: () => Promise.reject(new Error(reason)) };
}
