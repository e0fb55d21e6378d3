import { existsSync, mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DomainError, isDomainError } from '@kiln/core';
import { type ImageSpec, isEmptySpec } from '@kiln/images';
import { type LocalPlacement, type NormalizedResourceRequest, parseResourceRequest } from '@kiln/scheduler';
import type { EnvSeal } from './env-seal.ts';
import { discoverNvidiaHost, GPU_DRIVER_DIR } from './gpu-spec.ts';
import { type InstanceSource, RunscKernelSandbox, type StartedFrom } from './kernel-sandbox.ts';
import { createLaunchLimiter } from './launch-limiter.ts';
import { createModuleSnapshots, type ModuleSnapshot } from './module-snapshots.ts';
import { createNamedVolumes, type NamedVolumes } from './named-volumes.ts';
import { type AdoptedRunscSandbox, createOrphanAdoption } from './orphan-adoption.ts';
import { createRunscCli } from './runsc-cli.ts';
import {
  checkpointArgs,
  describeRunscFeatures,
  nvproxyDriverProblem,
  type RunscFeatures,
} from './runsc-features.ts';
import {
  attachNamedVolumes,
  destroyInstance,
  type LaunchContext,
  type LaunchRequest,
  launchInstance,
  type SandboxInstance,
  warmUp,
} from './sandbox-instance.ts';
import { ensureSnapshot } from './snapshot-template.ts';
import type { KernelSandboxOptions, SandboxDriver } from './types.ts';
import { WarmPool } from './warm-pool.ts';
import { createWorkspaceVolumes, destroyPlainVolume, ensurePlainVolume } from './workspace-volume.ts';

/** Options of the local runsc driver. */
export interface RunscDriverOptions {
  /** Holds `volumes/<workspaceId>` (mounted at /workspace), `run/`, `snapshots/` and runsc's state. */
  stateDir: string;
  /** Root filesystem built by scripts/build-sandbox-image.sh. */
  imageDir: string;
  runscPath?: string;
  /**
   * What the installed runsc offers, and the platform to run on: `probeRunsc` (runsc-probe.ts) asks
   * runsc without blocking and, given a cache file, only when the binary changed.
   */
  features: RunscFeatures;
  /** More global runsc flags for every sandbox (operator tuning; part of the snapshot key). */
  runscFlags?: string[];
  /** Defaults to this app's `agent/` folder. */
  agentDir?: string;
  /** Spare sandboxes kept ready for recently used workspaces (restart and new kernels take them). */
  warmPoolSize?: number;
  /** Spares per workspace within warmPoolSize (default 1), for bursts of kernels in one workspace. */
  warmPoolPerWorkspace?: number;
  /** How long after handing out a spare its replacement starts restoring (default 2000 ms; see WarmPool.refillLater). */
  warmPoolRefillDelayMs?: number;
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
  /** Operator maximum of one named volume in MiB (a plan's size is capped by it). Default 102400. */
  maxVolumeMiB?: number;
  /** Sandboxes started (restored or booted) at once; more wait their turn. Default: the host's cores. */
  maxConcurrentLaunches?: number;
  /** Finds (building when missing) the root file system of a workspace image; without it kernels asking for one are refused. */
  images?: { ensure(spec: ImageSpec): Promise<string> };
  /**
   * Memory-backed folder (tmpfs) where hibernation images exist in clear while runsc writes or reads
   * them; on disk they are only ever encrypted (see sealed-checkpoint.ts). Default /dev/shm/kiln-hibernate.
   */
  hibernationScratchDir?: string;
  /** Seals the kernel's env in each sandbox's record for re-adoption; without it the env is left out. */
  envSeal?: EnvSeal;
}

/** The runsc driver plus what tests and the gateway may want to look at. */
export interface RunscDriver extends SandboxDriver {
  start(options: KernelSandboxOptions): Promise<RunscKernelSandbox>;
  adopt(kernelId: string, options?: { agentTimeoutMs?: number }): Promise<AdoptedRunscSandbox>;
  reapUnadopted(): Promise<string[]>;
  reservedMemoryMiB(): Promise<number>;
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
  /** Erases a workspace's /workspace disk on this node (moved elsewhere); CONFLICT while a sandbox uses it. */
  destroyWorkspaceVolume(workspaceId: string): Promise<void>;
  /** This node's named volumes (shared by kernels and the file API). */
  readonly namedVolumes: NamedVolumes;
  /** Resolves once the module snapshots being built in the background are done (or given up). */
  moduleSnapshotsSettled(): Promise<void>;
}

/**
 * An import at least this long in the template makes restoring the module snapshot quicker than taking a
 * warm spare and importing there (a restore is ~0.3-0.7 s more than taking a spare on this host class).
 */
const MODULE_RESTORE_WORTH_MS = 300;

const DEFAULT_AGENT_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../agent');

/** Creates the local driver: one gVisor sandbox per kernel, no network, limits from the request. */
export function createRunscDriver(options: RunscDriverOptions): RunscDriver {
  const runscPath = options.runscPath ?? 'runsc';
  const { features } = options;
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
    namedVolumes: createNamedVolumes({
      stateDir,
      maxMiB: maxDiskMiB > 0 ? (options.maxVolumeMiB ?? 102_400) : 0,
    }),
  };
  const hibernation = {
    scratchDir: resolve(options.hibernationScratchDir ?? '/dev/shm/kiln-hibernate'),
    args: checkpointArgs(features, { direct: false }),
    ...(options.envSeal ? { envSeal: options.envSeal } : {}),
  };
  const limiter = createLaunchLimiter(options.maxConcurrentLaunches ?? Math.max(2, availableParallelism()));
  const launchLimited = (context: LaunchContext, request: LaunchRequest) =>
    limiter.run(() => launchInstance(context, request));
  const moduleSnapshots = createModuleSnapshots({ stateDir, launch: launchLimited, sealing: hibernation });
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
  /** Per workspace image: its snapshot, or undefined where checkpointing it failed (it then boots cold). */
  const imageSnapshots = new Map<string, Promise<string | undefined>>();
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
    const unsupported = nvproxyDriverProblem(features, host.driverVersion, options.runscFlags);
    if (unsupported) return unsupported;
    return {
      ...ctx,
      nvidia: host,
      cli: createRunscCli({ ...cliOptions, extraFlags: [...(options.runscFlags ?? []), '--nvproxy'] }),
    };
  }
  /** GPU indices placed per kernel; a restart reuses them. */
  const gpuPlacements = new Map<string, number[]>();

  // Sandboxes of a gateway that crashed: those that hosted a kernel wait for the registry to re-adopt
  // them (adopt()); the rest are deleted before anything new starts. `source` is read when one is adopted.
  const orphans = createOrphanAdoption({
    ctx,
    stateDir,
    source: { acquire: (request) => source.acquire(request), released: (id) => source.released(id) },
    gpuContext: () => gpuLaunchContext(),
    placeGpus: (kernelId, indices) => gpuPlacements.set(kernelId, indices),
    noteDisk: (workspaceId, diskMiB) => diskFor(workspaceId, diskMiB),
    hibernation,
  });
  const reaped = orphans.reaped;

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

  /** The snapshot of a workspace image's kernels, taken once per image like the base image's. */
  async function imageSnapshotPath(imageCtx: LaunchContext): Promise<string | undefined> {
    if (!snapshotsWanted) return reaped.then(() => undefined);
    const cached = imageSnapshots.get(imageCtx.imageDir);
    if (cached) {
      const path = await cached;
      if (path === undefined || existsSync(join(path, 'complete'))) return path;
      // A pruned image goes with its snapshot; rebuilt under the same key, it needs a new one (taken
      // once: a start that got here first already put it in the map).
      const now = imageSnapshots.get(imageCtx.imageDir);
      if (now !== cached && now) return now;
    }
    const found = reaped
      .then(() => ensureSnapshot(imageCtx, { scope: basename(imageCtx.imageDir) }))
      .catch((error: unknown) => {
        console.error(
          `[kernel-gateway] snapshot of image ${imageCtx.imageDir} failed; its kernels boot cold:`,
          error,
        );
        return undefined;
      });
    imageSnapshots.set(imageCtx.imageDir, found);
    return found;
  }

  /** The launch context of a kernel's image: the base context, or the same on a workspace image's root. */
  async function imageContext(base: LaunchContext, image: ImageSpec | undefined): Promise<LaunchContext> {
    if (!image || isEmptySpec(image)) return base;
    if (!options.images)
      throw new DomainError(
        'SANDBOX_FAILED',
        'This gateway has no image builder, so it cannot start workspace images',
      );
    const imageDir = resolve(await options.images.ensure(image));
    return imageDir === base.imageDir ? base : { ...base, imageDir };
  }

  /**
   * Where a sandbox that should already have imported its module restores from, when this node has that
   * snapshot (else its build starts in the background); `base` is the image's snapshot it is built from.
   */
  function findModuleSnapshot(
    launchCtx: LaunchContext,
    base: string | undefined,
    request: KernelSandboxOptions,
  ): Promise<ModuleSnapshot | undefined> {
    if (!base || !request.module) return Promise.resolve(undefined);
    return moduleSnapshots.find(launchCtx, base, {
      workspaceId: request.workspaceId,
      resources: request.resources,
      diskMiB: diskFor(request.workspaceId, request.diskMiB),
      code: request.module.code,
      env: request.env,
      volumes: request.volumes,
    });
  }

  /** The module snapshot's image ready to restore (decrypted when sealed), or undefined when it cannot be. */
  async function unpackModuleSnapshot(found: ModuleSnapshot | undefined, workspaceId: string) {
    if (!found) return undefined;
    try {
      return await moduleSnapshots.unpack(found);
    } catch (error) {
      // Pruned or replaced while being read: this start restores the image's snapshot instead.
      console.error(
        `[kernel-gateway] module snapshot of workspace ${workspaceId} could not be opened; importing on start:`,
        error instanceof Error ? error.message : error,
      );
      return undefined;
    }
  }

  async function launch(
    request: KernelSandboxOptions,
  ): Promise<{ instance: SandboxInstance; startedFrom: StartedFrom }> {
    const gpuIndices = gpuPlacements.get(request.kernelId);
    if (gpuIndices) {
      // GPU sandboxes boot cold: the snapshot holds no GPU state and checkpointing nvproxy is unsupported.
      const gpuBase = gpuLaunchContext();
      if (typeof gpuBase === 'string')
        throw new DomainError('GPU_UNAVAILABLE', `Cannot start a GPU kernel: ${gpuBase}.`);
      const gpuCtx = await imageContext(gpuBase, request.image);
      const instance = await launchLimited(gpuCtx, {
        workspaceId: request.workspaceId,
        resources: request.resources,
        env: request.env ?? {},
        gpuIndices,
        diskMiB: diskFor(request.workspaceId, request.diskMiB),
        volumes: request.volumes,
      });
      return { instance, startedFrom: 'cold' };
    }
    // A restored checkpoint keeps the mounts it was taken with (a mount added at restore shows up
    // read-only and empty with runsc 20240729), so volumes are bound on the host into the /vol every
    // sandbox has, the snapshot template's included (volume-mounts.ts).
    const launchCtx = await imageContext(ctx, request.image);
    const path = launchCtx === ctx ? await snapshotPath() : await imageSnapshotPath(launchCtx);
    const diskMiB = diskFor(request.workspaceId, request.diskMiB);
    const module = await unpackModuleSnapshot(
      await findModuleSnapshot(launchCtx, path, request),
      request.workspaceId,
    );
    try {
      const instance = await launchLimited(launchCtx, {
        workspaceId: request.workspaceId,
        resources: request.resources,
        env: request.env ?? {},
        snapshotPath: module?.path ?? path,
        restoreArgs: module?.restoreArgs,
        diskMiB,
        volumes: request.volumes,
      });
      return { instance, startedFrom: module ? 'module' : path ? 'snapshot' : 'cold' };
    } finally {
      // runsc has read the whole image once the sandbox is up; one decrypted for it goes at once.
      await module?.release();
    }
  }

  const refillDelayMs = options.warmPoolRefillDelayMs ?? 2000;
  const pool = new WarmPool({
    size: options.warmPoolSize ?? 0,
    perWorkspace: options.warmPoolPerWorkspace,
    launch: async (workspaceId, resources) => {
      const { instance } = await launch({ kernelId: 'pool', workspaceId, resources });
      // The spare serves its first (slow) request now, so the kernel it becomes answers its first quickly.
      await warmUp(instance.channel).catch(async (error: unknown) => {
        await destroyInstance(instance);
        throw error;
      });
      return instance;
    },
    destroy: destroyInstance,
  });

  /** A warm spare of the kernel's workspace with the kernel's volumes bound into its /vol, if one is ready. */
  async function takeSpare(request: KernelSandboxOptions): Promise<SandboxInstance | undefined> {
    const spare = await pool.take(request.workspaceId, request.resources, request.env ?? {});
    if (!spare || !request.volumes?.length) return spare;
    try {
      await attachNamedVolumes(ctx, spare, request.volumes);
      return spare;
    } catch (error) {
      await destroyInstance(spare);
      throw error;
    }
  }

  const source: InstanceSource = {
    async acquire(request) {
      // Spares run the base image (a workspace image's kernel restores from that image's own snapshot).
      const customImage = request.image !== undefined && !isEmptySpec(request.image);
      if (gpuPlacements.has(request.kernelId) || customImage) return launch(request);
      // A spare still has to import the module: a module snapshot beats it unless that import is quick
      // (a restore costs more than a trivial module's import in a sandbox that is already up).
      if (request.module) {
        const found = await findModuleSnapshot(ctx, await snapshotPath(), request);
        if (
          found &&
          (found.importMs >= MODULE_RESTORE_WORTH_MS || !pool.has(request.workspaceId, request.resources))
        )
          return launch(request);
      }
      const pooled = await takeSpare(request);
      // Refill only after this kernel is up, and a spare handed out has its first requests served
      // before its replacement's restore takes the cores (on a small host it would slow them down).
      const result = pooled ? { instance: pooled, startedFrom: 'pool' as const } : await launch(request);
      pool.refillLater(request.workspaceId, request.resources, refillDelayMs);
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
    namedVolumes: ctx.namedVolumes as NamedVolumes,
    async workspaceVolume(workspaceId) {
      const quota = diskFor(workspaceId);
      return ctx.volumes && quota !== undefined
        ? ctx.volumes.ensure(workspaceId, quota)
        : ensurePlainVolume(stateDir, workspaceId);
    },
    async destroyWorkspaceVolume(workspaceId) {
      if (ctx.volumes) await ctx.volumes.destroy(workspaceId);
      else await destroyPlainVolume(stateDir, workspaceId);
    },
    async start(request) {
      const resources = parseResourceRequest(request.resources);
      if (kernels.has(request.kernelId))
        throw new DomainError('CONFLICT', `kernel ${request.kernelId} already exists`);
      placeKernel(request.kernelId, resources);
      try {
        const { instance, startedFrom } = await source.acquire(request);
        // Its restarts are fresh interpreters, as Jupyter's are: they never restore the module's snapshot.
        const { module: _module, ...restartable } = request;
        const kernel = new RunscKernelSandbox(restartable, instance, startedFrom, source, hibernation);
        kernels.set(request.kernelId, kernel);
        return kernel;
      } catch (error) {
        options.placement?.release(request.kernelId);
        gpuPlacements.delete(request.kernelId);
        if (isDomainError(error)) throw error;
        throw new DomainError('SANDBOX_FAILED', `The kernel sandbox failed to start: ${String(error)}`);
      }
    },
    async adopt(kernelId, adoptOptions = {}) {
      const adopted = await orphans.adopt(kernelId, adoptOptions.agentTimeoutMs);
      kernels.set(kernelId, adopted.sandbox);
      return adopted;
    },
    reapUnadopted: () => orphans.reapUnadopted(),
    async reservedMemoryMiB() {
      const bytes = await Promise.all(pool.readySpares().map((spare) => spare.container.memoryUsageBytes()));
      return Math.ceil(bytes.reduce((sum, used) => sum + used, 0) / (1024 * 1024));
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
    moduleSnapshotsSettled: () => moduleSnapshots.settled(),
    async close() {
      await moduleSnapshots.settled();
      await orphans.reapUnadopted();
      await Promise.all([...kernels.values()].map((kernel) => kernel.shutdown()));
      await pool.drain(destroyInstance);
      await ctx.volumes?.close();
      await ctx.namedVolumes?.close();
    },
  };
}
