import { randomUUID } from 'node:crypto';
import { autoscale, LoadHistory } from '@kiln/scheduler/policy';
import type { EndpointSettings } from '../store/settings.ts';
import type { VersionSandbox } from '../store/version-sandbox.ts';
import { bootstrapCode, type CallResult, callCode } from './python-call.ts';
import type { ReplicaHandle, ReplicaHost } from './replica-host.ts';

/** The version a pool serves: the module a replica imports and the function it calls. */
export interface ServedVersion {
  id: string;
  source: string;
  functionName: string;
  isAsync: boolean;
  /** What its replicas start with: image, secrets, volumes. */
  sandbox: VersionSandbox;
}

export interface PoolConfig {
  endpointId: string;
  workspaceId: string;
  settings: EndpointSettings;
  version: ServedVersion;
  /**
   * When the endpoint row this config was read from was last written (its `updatedAt`, ms). A pool
   * only moves forward: a call that read the row before a rollback must not put the old version back.
   */
  stamp: number;
}

/** A call that got no answer from the function: the HTTP status and a message for the caller. */
export class CallRefused extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

/** How one call ended. `result` is the function's JSON text when `status` is 200. */
export interface CallOutcome {
  status: number;
  body?: string;
  error?: string;
  replicaId: string | null;
  /** The version whose replica answered (absent when no replica did). */
  versionId?: string;
}

/** The machine a replica was started with: the endpoint's resources then, and its version's image. */
export interface ReplicaMachine {
  cpu: number;
  memoryMiB: number;
  /** GPU types asked for (any one of them); empty: no GPU. */
  gpu: string[];
  /** null: Kiln's base image. */
  image: string | null;
}

export interface ReplicaStatus {
  id: string;
  state: 'starting' | 'idle' | 'busy';
  versionId: string;
  startedFrom: string | null;
  startedAt: Date;
  calls: number;
  machine: ReplicaMachine;
}

function machineOf(settings: EndpointSettings, version: ServedVersion): ReplicaMachine {
  return {
    cpu: settings.cpu,
    memoryMiB: settings.memoryMiB,
    gpu: settings.gpu,
    image: version.sandbox.image?.name ?? null,
  };
}

interface Replica {
  handle?: ReplicaHandle;
  versionId: string;
  /** Whether its version's function is `async def` (called with `await`). */
  isAsync: boolean;
  /**
   * `busy`: taking calls, some running (`active` of them); `recovering`: a call timed out and the replica
   * is being interrupted, no new call goes to it until it answers again.
   */
  state: 'starting' | 'idle' | 'busy' | 'recovering' | 'stopping';
  /** Calls sent to it and not answered yet, at most the endpoint's `targetConcurrency`. */
  active: number;
  startedAt: number;
  idleSince: number;
  calls: number;
  machine: ReplicaMachine;
}

interface Waiter {
  grant(replica: Replica): void;
  refuse(error: CallRefused): void;
}

/** What a fresh replica runs before its first call: the version's module, then the call wrapper. */
export function moduleCode(version: ServedVersion): string {
  return `${version.source}\n${bootstrapCode(version.functionName)}`;
}

/**
 * A version's module loaded into a fresh replica; throws the Python error when the import fails. A
 * replica restored from the snapshot taken after that import (`startedFrom` `module`) has nothing to load.
 */
export async function loadVersion(
  handle: ReplicaHandle,
  version: ServedVersion,
  timeoutMs: number,
): Promise<void> {
  if (handle.startedFrom === 'module') return;
  const outcome = await handle.execute(moduleCode(version), timeoutMs);
  if (outcome.kind === 'ok') return;
  if (outcome.kind === 'error') throw new CallRefused(500, outcome.error);
  if (outcome.kind === 'died')
    throw new CallRefused(502, `The replica stopped while importing: ${outcome.reason}`);
  throw new CallRefused(504, `Importing the module took over ${Math.round(timeoutMs / 1000)} s`);
}

/** Maps what the replica's call wrapper published to an HTTP answer. */
export function outcomeOf(result: CallResult | undefined, replicaId: string): CallOutcome {
  if (!result) return { status: 500, error: 'The function produced no result', replicaId };
  if (result.status === 'ok') return { status: 200, body: result.body, replicaId };
  if (result.status === 'bad_args') return { status: 400, error: result.error, replicaId };
  return { status: 500, error: result.error, replicaId };
}

/**
 * One endpoint's replicas in this process: a bounded queue of calls, up to `targetConcurrency` calls
 * sent to a replica at once (the replica's agent queues them, so the next one starts without a round
 * trip, and an `async def` function's calls overlap), and the scheduler's autoscaling policy deciding how
 * many replicas there should be for the load divided by that number, down to zero when idle for the
 * scale-down window.
 */
export class EndpointPool {
  private readonly replicas = new Set<Replica>();
  private waiters: Waiter[] = [];
  /** Bounded by the load levels seen, however many calls the scale-down window holds. */
  private readonly load = new LoadHistory();
  private inFlight = 0;
  private lastStartError: string | null = null;

  constructor(
    private config: PoolConfig,
    private readonly host: ReplicaHost,
    private readonly now: () => number = Date.now,
  ) {}

  get endpointId(): string {
    return this.config.endpointId;
  }

  /** Calls waiting for a replica now. */
  get waiting(): number {
    return this.waiters.length;
  }

  get idle(): boolean {
    return this.replicas.size === 0 && this.waiters.length === 0 && this.inFlight === 0;
  }

  /**
   * New settings or a new live version: replicas of another version finish their call and stop. A
   * config read before the one the pool has (an older `stamp`) is ignored.
   */
  update(config: PoolConfig): void {
    if (config === this.config || config.stamp < this.config.stamp) return;
    this.config = config;
    for (const replica of this.replicas)
      if (replica.versionId !== config.version.id && replica.state === 'idle')
        this.retire(replica, 'Replaced by a new version');
    // A higher `targetConcurrency` lets replicas already up take waiting calls now.
    for (const replica of this.replicas) this.settle(replica);
    this.scale();
  }

  /** Takes a replica that already imported this version (the smoke test's) as an idle one. */
  adopt(handle: ReplicaHandle, version: ServedVersion): void {
    const replica: Replica = {
      handle,
      versionId: version.id,
      isAsync: version.isAsync,
      state: 'idle',
      active: 0,
      startedAt: this.now(),
      idleSince: this.now(),
      calls: 0,
      // The smoke test's replica started with the endpoint's machine as it is now.
      machine: machineOf(this.config.settings, version),
    };
    this.replicas.add(replica);
    this.watch(replica);
    // Its smoke test was a call: load the scale-down window counts from, so it is not stopped at once.
    this.load.record(this.now(), 1);
    if (version.id !== this.config.version.id) this.retire(replica, 'Replaced by a new version');
    else this.settle(replica);
  }

  status(): ReplicaStatus[] {
    return [...this.replicas]
      .filter((r) => r.state !== 'stopping')
      .map((r) => ({
        id: r.handle?.id ?? 'starting',
        state: r.state === 'recovering' ? 'busy' : (r.state as ReplicaStatus['state']),
        versionId: r.versionId,
        startedFrom: r.handle?.startedFrom ?? null,
        startedAt: new Date(r.startedAt),
        calls: r.calls,
        machine: r.machine,
      }));
  }

  /** Calls the live version with `kwargsJson`; the deadline covers waiting for a replica and the call. */
  async call(kwargsJson: string): Promise<CallOutcome> {
    const timeoutMs = this.config.settings.timeoutSeconds * 1000;
    const deadline = this.now() + timeoutMs;
    const replica = await this.acquire(deadline);
    const handle = replica.handle as ReplicaHandle;
    const { versionId } = replica;
    this.inFlight++;
    replica.calls++;
    // The policy sees this call as load now, so the scale-down window counts from its end.
    this.scale();
    let recovering = false;
    // Names this call's execution, so a timeout interrupts it and never another call on the replica.
    const executionId = randomUUID();
    try {
      const outcome = await handle.execute(
        callCode(kwargsJson, replica.isAsync),
        Math.max(1, deadline - this.now()),
        executionId,
      );
      if (outcome.kind === 'ok')
        return { ...outcomeOf(outcome.results[0] as CallResult | undefined, handle.id), versionId };
      if (outcome.kind === 'error')
        return { status: 500, error: outcome.error, replicaId: handle.id, versionId };
      if (outcome.kind === 'died') {
        this.retire(replica, outcome.reason);
        return {
          status: 502,
          error: `The replica handling this request stopped: ${outcome.reason}`,
          replicaId: handle.id,
          versionId,
        };
      }
      // Answer the caller now; the replica is interrupted (or stopped) before it takes another call.
      recovering = true;
      this.finished(replica);
      if (replica.state !== 'stopping') replica.state = 'recovering';
      void this.abandon(replica, executionId).finally(() => {
        if (replica.state !== 'recovering') return;
        replica.state = replica.active > 0 ? 'busy' : 'idle';
        if (replica.active === 0) replica.idleSince = this.now();
        this.settle(replica);
      });
      return {
        status: 504,
        error: `The function did not answer within the endpoint's timeout of ${this.config.settings.timeoutSeconds} s`,
        replicaId: handle.id,
        versionId,
      };
    } finally {
      this.inFlight--;
      if (!recovering) {
        this.finished(replica);
        this.settle(replica);
      }
    }
  }

  /** Runs the autoscaling policy once (on every call and on the runtime's tick). */
  scale(): void {
    const now = this.now();
    const { settings } = this.config;
    this.load.record(now, this.inFlight + this.waiters.length);
    const live = [...this.replicas].filter((r) => r.state !== 'stopping');
    const decision = autoscale({
      settings: {
        minContainers: settings.minReplicas,
        maxContainers: settings.maxReplicas,
        bufferContainers: settings.bufferReplicas,
        targetInputsPerContainer: settings.targetConcurrency,
        scaleDownWindowMs: settings.scaleDownSeconds * 1000,
      },
      current: live.length,
      samples: this.load.samples(now, settings.scaleDownSeconds * 1000),
      now,
    });
    for (let i = 0; i < decision.start; i++) void this.startReplica();
    let toStop = decision.stop;
    for (const replica of live.filter((r) => r.state === 'idle').sort((a, b) => a.idleSince - b.idleSince)) {
      if (toStop-- <= 0) break;
      this.retire(replica, 'Scaled down: idle for the scale-down window');
    }
  }

  /** Stops one replica by its container id (a spending cap); false when this pool does not hold it. */
  async stopReplica(containerId: string, reason: string): Promise<boolean> {
    const replica = [...this.replicas].find((r) => r.handle?.id === containerId);
    if (!replica) return false;
    await this.retire(replica, reason);
    return true;
  }

  async close(reason: string): Promise<void> {
    for (const waiter of this.waiters.splice(0)) waiter.refuse(new CallRefused(503, reason, 5));
    await Promise.all([...this.replicas].map((replica) => this.retire(replica, reason)));
  }

  /** Whether `replica` may be sent one more call now. */
  private takes(replica: Replica): boolean {
    return (
      (replica.state === 'idle' || replica.state === 'busy') &&
      replica.versionId === this.config.version.id &&
      replica.active < this.config.settings.targetConcurrency
    );
  }

  private acquire(deadline: number): Promise<Replica> {
    // The least loaded replica that takes a call: spread over the replicas the load asked for.
    let ready: Replica | undefined;
    for (const replica of this.replicas)
      if (this.takes(replica) && (!ready || replica.active < ready.active)) ready = replica;
    if (ready) return Promise.resolve(this.take(ready));
    if (this.waiters.length >= this.config.settings.queueLimit) {
      this.scale();
      return Promise.reject(
        new CallRefused(
          503,
          `The endpoint is at capacity: ${this.waiters.length} requests are already waiting`,
          2,
        ),
      );
    }
    return new Promise<Replica>((resolve, reject) => {
      const timer = setTimeout(
        () => {
          this.waiters = this.waiters.filter((w) => w !== waiter);
          const why = this.lastStartError ? ` (last replica start failed: ${this.lastStartError})` : '';
          reject(
            new CallRefused(
              504,
              `No replica was free within the endpoint's timeout of ${this.config.settings.timeoutSeconds} s${why}`,
            ),
          );
        },
        Math.max(1, deadline - this.now()),
      );
      const waiter: Waiter = {
        grant: (replica) => {
          clearTimeout(timer);
          resolve(replica);
        },
        refuse: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      this.waiters.push(waiter);
      this.scale();
    });
  }

  /** Counts a call on `replica` from the moment it is granted (a grant resolves a promise later). */
  private take(replica: Replica): Replica {
    replica.active++;
    replica.state = 'busy';
    return replica;
  }

  /** A call on `replica` ended (answered, failed or timed out). */
  private finished(replica: Replica): void {
    replica.active = Math.max(0, replica.active - 1);
  }

  /**
   * After a call ended or the replica became ready: waiting calls go to it while it takes more; one of
   * an older version stops once its last call ended; one with nothing to do is idle from now.
   */
  private settle(replica: Replica): void {
    if (replica.state === 'stopping' || replica.state === 'starting' || replica.state === 'recovering')
      return;
    if (replica.versionId !== this.config.version.id) {
      if (replica.active === 0) {
        this.retire(replica, 'Replaced by a new version');
        this.scale();
      }
      return;
    }
    while (this.waiters.length > 0 && this.takes(replica))
      (this.waiters.shift() as Waiter).grant(this.take(replica));
    if (replica.active > 0) return;
    replica.state = 'idle';
    replica.idleSince = this.now();
    this.scale();
  }

  private async startReplica(): Promise<void> {
    const { config } = this;
    const replica: Replica = {
      versionId: config.version.id,
      isAsync: config.version.isAsync,
      state: 'starting',
      active: 0,
      startedAt: this.now(),
      idleSince: 0,
      calls: 0,
      machine: machineOf(config.settings, config.version),
    };
    this.replicas.add(replica);
    try {
      const handle = await this.host.start({
        workspaceId: config.workspaceId,
        endpointId: config.endpointId,
        requestedById: null,
        resources: {
          cpu: config.settings.cpu,
          memoryMiB: config.settings.memoryMiB,
          gpu: config.settings.gpu,
        },
        sandbox: config.version.sandbox,
        module: moduleCode(config.version),
      });
      replica.handle = handle;
      this.watch(replica);
      if (replica.state === 'stopping') {
        await handle.stop('The endpoint stopped before its replica was ready');
        return;
      }
      await loadVersion(handle, config.version, config.settings.timeoutSeconds * 1000);
      this.lastStartError = null;
      if (replica.state === 'starting') replica.state = 'idle';
      replica.idleSince = this.now();
      this.settle(replica);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.lastStartError = message;
      await this.retire(replica, `Start failed: ${message}`);
      // Nothing else is coming up for the callers waiting: tell them why now instead of at their timeout.
      const coming = [...this.replicas].some((r) => r.state === 'starting' || r.state === 'busy');
      // A refusal with a status of its own (402: the workspace may not spend) reaches callers as it is.
      const refusal =
        error instanceof CallRefused && error.status === 402
          ? error
          : new CallRefused(503, `No replica could start: ${message}`, 5);
      if (!coming) for (const waiter of this.waiters.splice(0)) waiter.refuse(refusal);
    }
  }

  private watch(replica: Replica): void {
    replica.handle?.onExit((reason) => {
      if (replica.state === 'stopping') return;
      this.retire(replica, reason);
      this.scale();
    });
  }

  /**
   * After a call timed out: interrupt that call only (other calls on the replica run on, whether queued
   * behind it or started after it ended), and stop the replica if it does not come back.
   */
  private async abandon(replica: Replica, executionId: string): Promise<void> {
    const handle = replica.handle as ReplicaHandle;
    await handle.interrupt(executionId).catch(() => undefined);
    // The probe runs after every call still on the replica: each has up to the endpoint's timeout, and
    // a probe that gave up first would stop the replica under them.
    const othersMs = replica.active > 0 ? this.config.settings.timeoutSeconds * 1000 : 0;
    const probe = await handle.execute('pass', 5000 + othersMs);
    if (probe.kind !== 'ok') await this.retire(replica, 'Did not recover from a timed-out call');
  }

  private async retire(replica: Replica, reason: string): Promise<void> {
    if (replica.state === 'stopping') return;
    replica.state = 'stopping';
    this.replicas.delete(replica);
    await replica.handle?.stop(reason).catch(() => undefined);
  }
}
