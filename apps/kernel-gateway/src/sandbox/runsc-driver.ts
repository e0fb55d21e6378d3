import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DomainError, isDomainError } from '@kiln/core';
import { type LocalPlacement, type NormalizedResourceRequest, parseResourceRequest } from '@kiln/scheduler';
import { type InstanceSource, RunscKernelSandbox, type StartedFrom } from './kernel-sandbox.ts';
import { reapOrphans } from './orphan-reaper.ts';
import { createRunscCli } from './runsc-cli.ts';
import {
  destroyInstance,
  type LaunchContext,
  launchInstance,
  type SandboxInstance,
} from './sandbox-instance.ts';
import { ensureSnapshot } from './snapshot-template.ts';
import type { KernelSandboxOptions, SandboxDriver } from './types.ts';
import { WarmPool } from './warm-pool.ts';

/** Options of the local runsc driver. */
export interface RunscDriverOptions {
  /** Holds `volumes/<workspaceId>` (mounted at /workspace), `run/`, `snapshots/` and runsc's state. */
  stateDir: string;
  /** Root filesystem built by scripts/build-sandbox-image.sh. */
  imageDir: string;
  runscPath?: string;
  /** Defaults to this app's `agent/` folder. */
  agentDir?: string;
  /** Spare sandboxes kept ready for recently used workspaces (restart and new kernels take them). */
  warmPoolSize?: number;
  /** Restore kernels from a checkpoint of one that already imported its libraries (default true). */
  snapshots?: boolean;
  /** Modules imported before a kernel is offered (and so already in the snapshot). */
  preload?: string[];
  placement?: LocalPlacement;
  startTimeoutMs?: number;
}

/** The runsc driver plus what tests and the gateway may want to look at. */
export interface RunscDriver extends SandboxDriver {
  start(options: KernelSandboxOptions): Promise<RunscKernelSandbox>;
  /** Reaps orphans and builds the snapshot ahead of the first kernel (otherwise the first start does). */
  prepare(): Promise<void>;
  /** Why kernels boot cold instead of restoring the snapshot, when checkpointing failed here. */
  snapshotError(): string | undefined;
}

const DEFAULT_AGENT_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../agent');

function probe(runscPath: string): { version: string; nvproxy: boolean; checkpoint: boolean } {
  const run = (args: string[]) => {
    try {
      return execFileSync(runscPath, args, {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 10_000,
      });
    } catch (error) {
      const failed = error as { stdout?: string; stderr?: string; code?: string };
      if (failed.code === 'ENOENT') throw new Error(`runsc not found at ${runscPath}`);
      return `${failed.stdout ?? ''}${failed.stderr ?? ''}`;
    }
  };
  const version = run(['--version']).split('\n')[0]?.replace('runsc version ', '').trim() ?? 'unknown';
  const flags = run(['flags']);
  const help = run(['help']);
  return {
    version,
    nvproxy: /-nvproxy\b/.test(flags),
    checkpoint: /\bcheckpoint\b/.test(help) && /\brestore\b/.test(help),
  };
}

/** Creates the local driver: one gVisor sandbox per kernel, no network, limits from the request. */
export function createRunscDriver(options: RunscDriverOptions): RunscDriver {
  const runscPath = options.runscPath ?? 'runsc';
  const features = probe(runscPath);
  const stateDir = resolve(options.stateDir);
  mkdirSync(join(stateDir, 'runsc'), { recursive: true });
  const ctx: LaunchContext = {
    cli: createRunscCli({ runscPath, root: join(stateDir, 'runsc') }),
    stateDir,
    imageDir: resolve(options.imageDir),
    agentDir: options.agentDir ?? DEFAULT_AGENT_DIR,
    preload: options.preload ?? ['numpy', 'pandas', 'matplotlib'],
    startTimeoutMs: options.startTimeoutMs ?? 60_000,
  };
  let snapshotsWanted = (options.snapshots ?? true) && features.checkpoint;
  let snapshotError: string | undefined;
  let snapshot: Promise<string | undefined> | undefined;
  const kernels = new Map<string, RunscKernelSandbox>();
  const gpuReason = features.nvproxy
    ? undefined
    : `this runsc (release ${features.version}) has no GPU passthrough (nvproxy); GPU kernels need a newer gVisor`;

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
      .then(() => ensureSnapshot(ctx, features.version))
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
    const path = await snapshotPath();
    const instance = await launchInstance(ctx, {
      workspaceId: request.workspaceId,
      resources: request.resources,
      env: request.env ?? {},
      snapshotPath: path,
    });
    return { instance, startedFrom: path ? 'snapshot' : 'cold' };
  }

  const pool = new WarmPool({
    size: options.warmPoolSize ?? 0,
    launch: (workspaceId, resources) =>
      launch({ kernelId: 'pool', workspaceId, resources }).then((r) => r.instance),
    destroy: destroyInstance,
  });

  const source: InstanceSource = {
    async acquire(request) {
      const pooled = await pool.take(request.workspaceId, request.resources, request.env ?? {});
      // Refill only after this kernel is up: on a small host a parallel restore would slow it down.
      const result = pooled ? { instance: pooled, startedFrom: 'pool' as const } : await launch(request);
      pool.refill(request.workspaceId, request.resources);
      return result;
    },
    released(kernelId) {
      kernels.delete(kernelId);
      options.placement?.release(kernelId);
    },
  };

  function checkGpu(kernelId: string, request: NormalizedResourceRequest): void {
    if (request.gpu.length === 0) {
      options.placement?.place(kernelId, request);
      return;
    }
    if (gpuReason) throw new DomainError('GPU_UNAVAILABLE', `Cannot start a GPU kernel: ${gpuReason}.`);
    if (!options.placement)
      throw new DomainError('GPU_UNAVAILABLE', 'Cannot start a GPU kernel: no GPU inventory configured.');
    options.placement.place(kernelId, request);
    // Passing the placed devices through needs nvproxy, which no runsc reachable here has; refuse
    // rather than start a kernel that would silently run without its GPU.
    options.placement.release(kernelId);
    throw new DomainError(
      'GPU_UNAVAILABLE',
      'Cannot start a GPU kernel: GPU passthrough is not wired for this runsc yet.',
    );
  }

  return {
    async start(request) {
      const resources = parseResourceRequest(request.resources);
      if (kernels.has(request.kernelId))
        throw new DomainError('CONFLICT', `kernel ${request.kernelId} already exists`);
      checkGpu(request.kernelId, resources);
      try {
        const { instance, startedFrom } = await source.acquire(request);
        const kernel = new RunscKernelSandbox(request, instance, startedFrom, source);
        kernels.set(request.kernelId, kernel);
        return kernel;
      } catch (error) {
        options.placement?.release(request.kernelId);
        if (isDomainError(error)) throw error;
        throw new DomainError('SANDBOX_FAILED', `The kernel sandbox failed to start: ${String(error)}`);
      }
    },
    async prepare() {
      await snapshotPath();
    },
    snapshotError: () => snapshotError,
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
    },
  };
}
