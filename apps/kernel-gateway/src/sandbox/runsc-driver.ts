import { existsSync, mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DomainError, isDomainError } from '@kiln/core';
import { type LocalPlacement, type NormalizedResourceRequest, parseResourceRequest } from '@kiln/scheduler';
import { discoverNvidiaHost, GPU_DRIVER_DIR } from './gpu-spec.ts';
import { type InstanceSource, RunscKernelSandbox, type StartedFrom } from './kernel-sandbox.ts';
import { createLaunchLimiter } from './launch-limiter.ts';
import { reapOrphans } from './orphan-reaper.ts';
import { createRunscCli } from './runsc-cli.ts';
import {
  checkpointArgs,
  describeRunscFeatures,
  probeRunscFeatures,
  type RunscFeatures,
} from './runsc-features.ts';
import {
  destroyInstance,
  type LaunchContext,
  type LaunchRequest,
  launchInstance,
  type SandboxInstance,
} from './sandbox-instance.ts';
import { ensureSnapshot } from './snapshot-template.ts';
import type { KernelSandboxOptions, SandboxDriver } from './types.ts';
import { WarmPool } from './warm-pool.ts';
import { createWorkspaceVolumes, ensurePlainVolume } from './workspace-volume.ts';

/** Options of the local runsc driver. */
export interface RunscDriverOptions {
  /** Holds `volumes/<workspaceId>` (mounted at /workspace), `run/`, `snapshots/` and runsc's state. */
  stateDir: string;
  /** Root filesystem built by scripts/build-sandbox-image.sh. */
  imageDir: string;
  runscPath?: string;
  /** runsc platform; by default systrap where the installed runsc has it, else ptrace. */
  platform?: string;
  /** More global runsc flags for every sandbox (operator tuning; part of the snapshot key). */
  runscFlags?: string[];
  /** Defaults to this app's `agent/` folder. */
  agentDir?: string;
  /** Spare sandboxes kept ready for recently used workspaces (restart and new kernels take them). */
  warmPoolSize?: number;
  /** Spares per workspace within warmPoolSize (default 1), for bursts of kernels in one workspace. */
  warmPoolPerWorkspace?: number;
  /** Restore kernels from a checkpoint of one that already imported its libraries (default true). */
  snapshots?: boolean;
  /** Modules imported before a kernel is offered (and so already in the snapshot). */
  preload?: string[];
  placement?: LocalPlacement;
  startTimeoutMs?: number;
  /**
   * Operator maximum for a workspace's disk (/workspace, an ext4 image per workspace), in MiB; a kernel's
   * `diskMiB` (its plan) is capped by it. 0 turns quotas off (plain host dirs, no limit). Default 10240.
   */
  maxDiskMiB?: number;
  /** Sandboxes started (restored or booted) at once; more wait their turn. Default: the host's cores. */
  maxConcurrentLaunches?: number;
}

/** The runsc driver plus what tests and the gateway may want to look at. */
export interface RunscDriver extends SandboxDriver {
  start(options: KernelSandboxOptions): Promise<RunscKernelSandbox>;
  /** Reaps orphans and builds the snapshot ahead of the first kernel (otherwise the first start does). */
  prepare(): Promise<void>;
  /** Why kernels boot cold instead of restoring the snapshot, when checkpointing failed here. */
  snapshotError(): string | undefined;
  /** What the installed runsc offers and which of it is in use. */
  readonly features: RunscFeatures;
  /** One line for the start message: runsc version, platform and features in use. */
  describe(): string;
  /**
   * The host dir of a workspace's /workspace, mounted with its quota when quotas are on, so what the
   * file API writes lands where kernels see it (never under a mount that would hide it).
   */
  workspaceVolume(workspaceId: string): Promise<string>;
}

const DEFAULT_AGENT_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../agent');

/** Creates the local driver: one gVisor sandbox per kernel, no network, limits from the request. */
export function createRunscDriver(options: RunscDriverOptions): RunscDriver {
  const runscPath = options.runscPath ?? 'runsc';
  const features = probeRunscFeatures(runscPath, options.platform);
  const stateDir = resolve(options.stateDir);
  const maxDiskMiB = options.maxDiskMiB ?? 10_240;
  mkdirSync(join(stateDir, 'runsc'), { recursive: true });
  const cliOptions = {
    runscPath,
    root: join(stateDir, 'runsc'),
    platform: features.platform,
    version: features.version,
    checkpointArgs: checkpointArgs(features),
  };
  const ctx: LaunchContext = {
    cli: createRunscCli({ ...cliOptions, extraFlags: options.runscFlags }),
    stateDir,
    imageDir: resolve(options.imageDir),
    agentDir: options.agentDir ?? DEFAULT_AGENT_DIR,
    preload: options.preload ?? ['numpy', 'pandas', 'matplotlib'],
    startTimeoutMs: options.startTimeoutMs ?? 60_000,
    volumes: maxDiskMiB > 0 ? createWorkspaceVolumes(stateDir) : undefined,
  };
  const limiter = createLaunchLimiter(options.maxConcurrentLaunches ?? Math.max(2, availableParallelism()));
  const launchLimited = (context: LaunchContext, request: LaunchRequest) =>
    limiter.run(() => launchInstance(context, request));
  // The last quota asked for per workspace, so warm-pool spares never grow a volume past its plan.
  const diskByWorkspace = new Map<string, number>();
  const diskFor = (workspaceId: string, requested?: number) => {
    if (maxDiskMiB === 0) return undefined;
    const quota = Math.min(requested ?? diskByWorkspace.get(workspaceId) ?? maxDiskMiB, maxDiskMiB);
    diskByWorkspace.set(workspaceId, quota);
    return quota;
  };
  let snapshotsWanted = (options.snapshots ?? true) && features.checkpoint;
  let snapshotError: string | undefined;
  let snapshot: Promise<string | undefined> | undefined;
  const kernels = new Map<string, RunscKernelSandbox>();
  const inventory = options.placement?.inventory;
  // Why GPU kernels cannot start here, known without touching the driver; the host check comes later.
  const gpuReason = !features.nvproxy
    ? `this runsc (release ${features.version}) has no GPU passthrough (nvproxy); GPU kernels need a newer gVisor`
    : !inventory
      ? 'no GPU inventory configured'
      : inventory.source !== 'nvidia-smi'
        ? `the GPU inventory here is ${inventory.source}${inventory.note ? ` (${inventory.note})` : ''}, not devices nvidia-smi found, so there is nothing to pass through`
        : undefined;
  let gpuContext: LaunchContext | string | undefined;
  /** The launch context of GPU sandboxes (runsc with --nvproxy, the host's driver), or why there is none. */
  function gpuLaunchContext(): LaunchContext | string {
    gpuContext ??= buildGpuContext();
    return gpuContext;
  }
  function buildGpuContext(): LaunchContext | string {
    if (!existsSync(join(ctx.imageDir, GPU_DRIVER_DIR)))
      return `the sandbox image has no ${GPU_DRIVER_DIR} to mount the driver on (rebuild it with scripts/build-sandbox-image.sh)`;
    const host = discoverNvidiaHost(join(stateDir, 'nvidia'));
    if (typeof host === 'string') return host;
    return {
      ...ctx,
      nvidia: host,
      cli: createRunscCli({ ...cliOptions, extraFlags: [...(options.runscFlags ?? []), '--nvproxy'] }),
    };
  }
  /** GPU indices placed per kernel; a restart reuses them. */
  const gpuPlacements = new Map<string, number[]>();

  // Sandboxes of a gateway that crashed are deleted before anything new starts.
  const reaped = reapOrphans(ctx.cli, stateDir)
    .then((ids) => {
      // Their notebooks learn it when they reconnect (the kernel is gone); say it here too.
      if (ids.length > 0)
        console.log(`[kernel-gateway] stopped ${ids.length} sandboxes left by a gateway that crashed`);
      return ids;
    })
    .catch(() => []);

  function snapshotPath(): Promise<string | undefined> {
    if (!snapshotsWanted) return reaped.then(() => undefined);
    snapshot ??= reaped
      .then(() => ensureSnapshot(ctx))
      .catch((error: unknown) => {
        // A broken checkpoint must not stop kernels from starting: fall back to cold boots, say why.
        snapshotsWanted = false;
        snapshotError = String(error);
        return undefined;
      });
    return snapshot;
  }

  async function launch(
    request: KernelSandboxOptions,
  ): Promise<{ instance: SandboxInstance; startedFrom: StartedFrom }> {
    const gpuIndices = gpuPlacements.get(request.kernelId);
    if (gpuIndices) {
      // GPU sandboxes boot cold: the snapshot holds no GPU state and checkpointing nvproxy is unsupported.
      const gpuCtx = gpuLaunchContext();
      if (typeof gpuCtx === 'string')
        throw new DomainError('GPU_UNAVAILABLE', `Cannot start a GPU kernel: ${gpuCtx}.`);
      const instance = await launchLimited(gpuCtx, {
        workspaceId: request.workspaceId,
        resources: request.resources,
        env: request.env ?? {},
        gpuIndices,
        diskMiB: diskFor(request.workspaceId, request.diskMiB),
      });
      return { instance, startedFrom: 'cold' };
    }
    const path = await snapshotPath();
    const instance = await launchLimited(ctx, {
      workspaceId: request.workspaceId,
      resources: request.resources,
      env: request.env ?? {},
      snapshotPath: path,
      diskMiB: diskFor(request.workspaceId, request.diskMiB),
    });
    return { instance, startedFrom: path ? 'snapshot' : 'cold' };
  }

  const pool = new WarmPool({
    size: options.warmPoolSize ?? 0,
    perWorkspace: options.warmPoolPerWorkspace,
    launch: (workspaceId, resources) =>
      launch({ kernelId: 'pool', workspaceId, resources }).then((r) => r.instance),
    destroy: destroyInstance,
  });

  const source: InstanceSource = {
    async acquire(request) {
      if (gpuPlacements.has(request.kernelId)) return launch(request);
      const pooled = await pool.take(request.workspaceId, request.resources, request.env ?? {});
      // Refill only after this kernel is up: on a small host a parallel restore would slow it down.
      const result = pooled ? { instance: pooled, startedFrom: 'pool' as const } : await launch(request);
      pool.refill(request.workspaceId, request.resources);
      return result;
    },
    released(kernelId) {
      kernels.delete(kernelId);
      gpuPlacements.delete(kernelId);
      options.placement?.release(kernelId);
    },
  };

  function placeKernel(kernelId: string, request: NormalizedResourceRequest): void {
    if (request.gpu.length === 0) {
      options.placement?.place(kernelId, request);
      return;
    }
    if (gpuReason || !options.placement)
      throw new DomainError('GPU_UNAVAILABLE', `Cannot start a GPU kernel: ${gpuReason}.`);
    const gpuCtx = gpuLaunchContext();
    if (typeof gpuCtx === 'string')
      throw new DomainError('GPU_UNAVAILABLE', `Cannot start a GPU kernel: ${gpuCtx}.`);
    const placement = options.placement.place(kernelId, request);
    gpuPlacements.set(
      kernelId,
      placement.gpus.map((gpu) => gpu.index),
    );
  }

  return {
    async workspaceVolume(workspaceId) {
      const quota = diskFor(workspaceId);
      return ctx.volumes && quota !== undefined
        ? ctx.volumes.ensure(workspaceId, quota)
        : ensurePlainVolume(stateDir, workspaceId);
    },
    async start(request) {
      const resources = parseResourceRequest(request.resources);
      if (kernels.has(request.kernelId))
        throw new DomainError('CONFLICT', `kernel ${request.kernelId} already exists`);
      placeKernel(request.kernelId, resources);
      try {
        const { instance, startedFrom } = await source.acquire(request);
        const kernel = new RunscKernelSandbox(request, instance, startedFrom, source);
        kernels.set(request.kernelId, kernel);
        return kernel;
      } catch (error) {
        options.placement?.release(request.kernelId);
        gpuPlacements.delete(request.kernelId);
        if (isDomainError(error)) throw error;
        throw new DomainError('SANDBOX_FAILED', `The kernel sandbox failed to start: ${String(error)}`);
      }
    },
    async prepare() {
      await snapshotPath();
    },
    snapshotError: () => snapshotError,
    features,
    describe() {
      const snapshots = snapshotsWanted
        ? 'snapshots on'
        : `snapshots off${snapshotError ? ` (${snapshotError})` : ''}`;
      return `${describeRunscFeatures(features)}, ${snapshots}`;
    },
    capabilities() {
      return {
        gpu: !gpuReason,
        gpuReason,
        checkpoint: snapshotsWanted,
        runscVersion: features.version,
      };
    },
    async close() {
      await Promise.all([...kernels.values()].map((kernel) => kernel.shutdown()));
      await pool.drain(destroyInstance);
      await ctx.volumes?.close();
    },
  };
}
