/** A Jupyter message as both sides see it (protocol 5.3+); buffers are raw bytes. */
export interface JupyterMessage {
  channel: 'shell' | 'control' | 'iopub' | 'stdin';
  header: {
    msg_id: string;
    msg_type: string;
    session: string;
    username: string;
    date: string;
    version: string;
  };
  parent_header: Record<string, unknown>;
  metadata: Record<string, unknown>;
  content: Record<string, unknown>;
  buffers: Uint8Array[];
}

/** What a kernel asks for; `gpu` is a GPU string like `A100-80GB:2` or a fallback list. */
export interface ResourceRequest {
  cpu: number;
  memoryMiB: number;
  gpu?: string | string[] | null;
}

/**
 * Kiln: a named volume the kernel mounts at `target` (`/vol/<name>`), an ext4 file system of
 * `quotaMiB` on the node, identified by the volume's id so a recreated name is a fresh disk.
 */
export interface VolumeMountSpec {
  id: string;
  name: string;
  target: string;
  readOnly: boolean;
  quotaMiB: number;
}

export type ExecutionState = 'starting' | 'idle' | 'busy' | 'restarting' | 'terminating' | 'dead';

export type HibernationState = 'awake' | 'hibernating' | 'hibernated' | 'resuming';

/**
 * Kernel model as Jupyter Server returns it, plus Kiln's `resources` and `hibernation`. A sleeping
 * kernel reports `execution_state: 'hibernated'` (clients validate only `id` and `name` of a model).
 */
export interface KernelModel {
  id: string;
  name: string;
  last_activity: string;
  execution_state: ExecutionState | 'hibernated';
  connections: number;
  reason?: string;
  resources: ResourceRequest;
  /** `module`: restored from a snapshot taken after the start request's `module` code ran. */
  started_from: 'cold' | 'snapshot' | 'pool' | 'module';
  hibernation: HibernationState;
  /** Kiln's extension: the kernel sleeps because Kiln paused it (a spending cap), and why. */
  paused?: { reason: string };
}
