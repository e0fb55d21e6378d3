import { DomainError } from '@kiln/core';
import type { JupyterMessage, VolumeMountSpec } from '@kiln/kernel-protocol';
import { createGatewayClient, type KernelChannel, workspaceToken } from '@kiln/kernel-protocol/client';
import type { Scheduler } from '@kiln/scheduler';
import { createMasker, maskJsonText } from '@kiln/secrets/masking';
import type { VersionSandbox } from '../store/version-sandbox.ts';
import { plainTraceback, RESULT_MIME } from './python-call.ts';
import type { ExecuteOutcome, ReplicaHandle, ReplicaHost, ReplicaRequest } from './replica-host.ts';

export interface KernelReplicaHostOptions {
  scheduler: Scheduler;
  /** The gateways' shared secret; only workspace-scoped tokens minted from it are sent. */
  secret: string;
  /** Longest wait for a machine while queued (default 60 s). */
  placementTimeoutMs?: number;
  /** Decrypts a version's secrets for a replica start (@kiln/secrets' vault); absent: none can be used. */
  secrets?: {
    resolve(
      workspaceId: string,
      actor: { userId: string | null },
      secrets: VersionSandbox['secrets'],
      context: Record<string, string>,
    ): Promise<{ env: Record<string, string> }>;
  };
  /** Mount specs of named volumes (@kiln/volumes); absent: no volume can be mounted. */
  volumes?: {
    mounts(workspaceId: string, refs: VersionSandbox['volumes']): Promise<VolumeMountSpec[]>;
  };
}

/**
 * What the gateway's kernel start gets from a version's sandbox: the image's packages, the secrets'
 * variables (sent in the start request and handed to the sandbox over its agent, as a kernel's are,
 * never written into its bundle) and the volumes' mounts. Resolved before placement, so a deleted
 * secret or volume fails the start without taking a machine.
 */
async function startSandbox(options: KernelReplicaHostOptions, request: ReplicaRequest) {
  const sandbox = request.sandbox;
  if (!sandbox) return { start: {}, masker: null };
  let env: Record<string, string> | undefined;
  if (sandbox.secrets.length > 0) {
    if (!options.secrets) throw new DomainError('SANDBOX_FAILED', 'Secrets are not available on this server');
    env = (
      await options.secrets.resolve(request.workspaceId, { userId: request.requestedById }, sandbox.secrets, {
        endpointId: request.endpointId,
        purpose: 'endpoint replica start',
      })
    ).env;
  }
  let volumes: VolumeMountSpec[] | undefined;
  if (sandbox.volumes.length > 0) {
    if (!options.volumes) throw new DomainError('SANDBOX_FAILED', 'Volumes are not available on this server');
    volumes = await options.volumes.mounts(request.workspaceId, sandbox.volumes);
  }
  const image = sandbox.image ? { debian: sandbox.image.debian, python: sandbox.image.python } : undefined;
  return {
    start: { ...(env ? { env } : {}), ...(volumes ? { volumes } : {}), ...(image ? { image } : {}) },
    // A secret's value in a result or a traceback is masked before it is stored or sent to a caller.
    masker: env ? createMasker(Object.values(env)) : null,
  };
}

/**
 * Replicas as gateway kernels in containers of kind `endpoint_replica`: placed by the scheduler like
 * notebook kernels (same limits, no network, the workspace volume, restored from the kernel snapshot),
 * metered by billing from their container events, called over the kernel websocket.
 */
export function createKernelReplicaHost(options: KernelReplicaHostOptions): ReplicaHost {
  const { scheduler } = options;
  return {
    async start(request: ReplicaRequest): Promise<ReplicaHandle> {
      const { cpu, memoryMiB, gpu } = request.resources;
      const resources = gpu.length > 0 ? { cpu, memoryMiB, gpu } : { cpu, memoryMiB };
      const sandbox = await startSandbox(options, request);
      let view = await scheduler.request({
        workspaceId: request.workspaceId,
        kind: 'endpoint_replica',
        ownerId: request.endpointId,
        requestedById: request.requestedById,
        resources,
        // Volumes and /workspace never move between nodes: the scheduler places the replica where they are.
        ...(sandbox.start.volumes ? { volumes: sandbox.start.volumes.map((volume) => volume.id) } : {}),
        mountsWorkspace: true,
      });
      if (view.state === 'queued') {
        const timeout = AbortSignal.timeout(options.placementTimeoutMs ?? 60_000);
        const signal = request.signal ? AbortSignal.any([timeout, request.signal]) : timeout;
        try {
          view = await scheduler.waitForPlacement(view.id, { signal });
        } catch (error) {
          await scheduler
            .cancel(view.id, { reason: 'No machine in time for an endpoint replica' })
            .catch(() => undefined);
          throw new DomainError('GPU_UNAVAILABLE', `No machine for a replica: ${String(error)}`);
        }
      }
      if (view.state !== 'starting' || !view.node)
        throw new DomainError(
          'GPU_UNAVAILABLE',
          view.stop?.reason ?? `The replica could not be placed (${view.state})`,
        );
      const client = createGatewayClient({
        baseUrl: view.node.url,
        token: workspaceToken(options.secret, request.workspaceId),
      });
      const id = view.id;
      let channel: KernelChannel;
      let startedFrom = 'cold';
      try {
        const model = await client.startKernel({
          containerId: id,
          resources,
          ...sandbox.start,
          ...(moduleSnapshotAllowed(request) ? { module: { code: request.module as string } } : {}),
        });
        startedFrom = String((model as { started_from?: string }).started_from ?? 'cold');
        channel = await client.connect(id);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        await scheduler.stop(id, { code: 'start_failed', reason }).catch(() => undefined);
        await client.shutdownKernel(id).catch(() => undefined);
        throw new DomainError('SANDBOX_FAILED', `The replica did not start: ${reason}`);
      }
      return kernelReplica({ id, startedFrom, channel, client, scheduler, mask: sandbox.masker });
    },
  };
}

/** The largest module code sent along with a replica start (JSON escaping may grow it). */
const MODULE_SNAPSHOT_MAX_BYTES = 256 * 1024;

/**
 * Whether the gateway may restore this replica from a snapshot taken after its module's import: any
 * version whose module is small enough to send. Secrets and volumes come too: the gateway imports with
 * them, and seals a snapshot that holds secret values (none reaches its disk in clear).
 */
function moduleSnapshotAllowed(request: ReplicaRequest): boolean {
  // The gateway takes start requests up to 1 MiB: a module near the version's 1 MiB limit imports on start.
  return request.module !== undefined && Buffer.byteLength(request.module) <= MODULE_SNAPSHOT_MAX_BYTES;
}

/**
 * A call's published outcome with secret values masked in the function's JSON result and in its
 * error, here, before the caller's answer, the request log, a schedule's run or a smoke result sees it.
 */
function maskResult(result: unknown, mask: ((text: string) => string) | null): unknown {
  if (!mask || typeof result !== 'object' || result === null) return result;
  const { body, error } = result as { body?: unknown; error?: unknown };
  return {
    ...result,
    ...(typeof body === 'string' ? { body: maskJsonText(body, mask) } : {}),
    ...(typeof error === 'string' ? { error: mask(error) } : {}),
  };
}

function kernelReplica(parts: {
  id: string;
  startedFrom: string;
  channel: KernelChannel;
  client: ReturnType<typeof createGatewayClient>;
  scheduler: Scheduler;
  /** Masks secret values in results and error text (null: the replica has no secrets). */
  mask: ((text: string) => string) | null;
}): ReplicaHandle {
  const { id, channel, client, scheduler, mask } = parts;
  const masked = (text: string) => (mask ? mask(text) : text);
  const exitListeners: ((reason: string) => void)[] = [];
  const running = new Map<string, (message: JupyterMessage | { dead: string }) => void>();
  let dead: string | null = null;
  const die = (reason: string) => {
    if (dead) return;
    dead = reason;
    for (const finish of running.values()) finish({ dead: reason });
    running.clear();
    for (const listener of exitListeners) listener(reason);
  };
  channel.onMessage((message) => {
    if (
      message.channel === 'iopub' &&
      message.header.msg_type === 'error' &&
      message.content.ename === 'KernelDied'
    ) {
      die(String(message.content.evalue));
      return;
    }
    if (
      message.channel === 'iopub' &&
      message.header.msg_type === 'status' &&
      message.content.execution_state === 'dead'
    ) {
      die('The replica stopped');
      return;
    }
    const parent = message.parent_header?.msg_id;
    if (typeof parent === 'string') running.get(parent)?.(message);
  });
  void channel.closed.then(({ code, reason }) => die(`The replica's connection closed (${code} ${reason})`));

  return {
    id,
    startedFrom: parts.startedFrom,
    execute(code, timeoutMs, executionId) {
      if (dead) return Promise.resolve({ kind: 'died', reason: dead } satisfies ExecuteOutcome);
      const request = channel.message('shell', 'execute_request', {
        code,
        silent: false,
        store_history: false,
        user_expressions: {},
        allow_stdin: false,
        stop_on_error: false,
      });
      // Quiet (Kiln's agent): no busy/idle status and no execute_input echo for it. The agent sends a
      // call's result and error before its reply, over one ordered link, so the reply ends the call.
      request.metadata = { kiln_quiet: true };
      if (executionId) request.header.msg_id = executionId;
      return new Promise<ExecuteOutcome>((resolve) => {
        const results: unknown[] = [];
        let error: ExecuteOutcome | null = null;
        const done = (outcome: ExecuteOutcome) => {
          clearTimeout(timer);
          running.delete(request.header.msg_id);
          resolve(outcome);
        };
        const timer = setTimeout(() => done({ kind: 'timeout' }), timeoutMs);
        running.set(request.header.msg_id, (message) => {
          if ('dead' in message) return done({ kind: 'died', reason: message.dead });
          const type = message.header.msg_type;
          if (
            type === 'display_data' &&
            message.content.data &&
            RESULT_MIME in (message.content.data as object)
          )
            results.push(maskResult((message.content.data as Record<string, unknown>)[RESULT_MIME], mask));
          else if (type === 'error')
            error = {
              kind: 'error',
              ename: String(message.content.ename),
              error: masked(
                plainTraceback((message.content.traceback as string[]) ?? [String(message.content.evalue)]),
              ),
            };
          else if (type === 'execute_reply') {
            const { status } = message.content;
            // An error the reply carries whose iopub message never came (or an aborted request).
            if (!error && status !== 'ok')
              error = {
                kind: 'error',
                ename: String(message.content.ename ?? status),
                error: masked(
                  plainTraceback(
                    (message.content.traceback as string[] | undefined) ?? [
                      `${String(message.content.ename ?? 'Error')}: ${String(message.content.evalue ?? status)}`,
                    ],
                  ),
                ),
              };
            done(error ?? { kind: 'ok', results });
          }
        });
        channel.send(request);
      });
    },
    interrupt: (executionId) => client.interruptKernel(id, executionId),
    onExit(listener) {
      exitListeners.push(listener);
      if (dead) listener(dead);
    },
    async stop(reason) {
      die(reason);
      await channel.close().catch(() => undefined);
      await client.shutdownKernel(id).catch(() => undefined);
      await scheduler.stop(id, { reason }).catch(() => undefined);
    },
  };
}
