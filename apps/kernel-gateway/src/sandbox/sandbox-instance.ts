import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createMessage } from '@kiln/kernel-protocol';
import { AgentChannel } from './agent-channel.ts';
import { addGpuPassthrough, type NvidiaHost } from './gpu-spec.ts';
import { type NamedVolumes, volumeMountPath } from './named-volumes.ts';
import { buildOciSpec, SANDBOX_UID } from './oci-spec.ts';
import { claimRunDir } from './orphan-reaper.ts';
import { PhaseClock } from './phase-clock.ts';
import type { RunscCli } from './runsc-cli.ts';
import { RunscContainer } from './runsc-container.ts';
import type { CheckpointArgs } from './runsc-features.ts';
import type { ResourceRequest, VolumeMountSpec } from './types.ts';
import { attachVolumes, prepareVolRoot, type VolumeBind } from './volume-mounts.ts';
import { ensurePlainVolume, type WorkspaceVolumes } from './workspace-volume.ts';

/** What every sandbox launch needs from the driver. */
export interface LaunchContext {
  cli: RunscCli;
  stateDir: string;
  imageDir: string;
  agentDir: string;
  preload: string[];
  startTimeoutMs: number;
  /** The host's NVIDIA devices and driver, for GPU sandboxes (their cli runs with --nvproxy). */
  nvidia?: NvidiaHost;
  /** Quota-bounded workspace volumes; without them /workspace is a plain host dir (no disk quota). */
  volumes?: WorkspaceVolumes;
  /** This node's named volumes (mounted at /vol/<name> for kernels that name them). */
  namedVolumes?: NamedVolumes;
}

export interface LaunchRequest {
  workspaceId: string;
  resources: ResourceRequest;
  env: Record<string, string>;
  /** Restore this checkpoint instead of booting Python. */
  snapshotPath?: string;
  /** runsc's restore flags for that checkpoint when they differ from the CLI's (one written to tmpfs). */
  restoreArgs?: CheckpointArgs;
  /** GPUs the scheduler placed this sandbox on (host indices); needs ctx.nvidia. */
  gpuIndices?: number[];
  /** Size of the workspace's volume; undefined mounts a plain dir (the snapshot template). */
  diskMiB?: number;
  /** Named volumes to mount. */
  volumes?: VolumeMountSpec[];
}

/** One running container plus the socket its agent talks on. */
export interface SandboxInstance {
  container: RunscContainer;
  channel: AgentChannel;
  workspaceId: string;
  resources: ResourceRequest;
}

/** Starts a container (cold boot or snapshot restore) and waits until its agent says hello. */
export async function launchInstance(ctx: LaunchContext, request: LaunchRequest): Promise<SandboxInstance> {
  const phases = new PhaseClock();
  const id = `kiln-${randomUUID().slice(0, 18)}`;
  const runDir = join(ctx.stateDir, 'run', id);
  const channelDir = join(runDir, 'channel');
  await mkdir(channelDir, { recursive: true, mode: 0o755 });
  await claimRunDir(runDir);
  const volumeDir =
    ctx.volumes && request.diskMiB !== undefined
      ? await ctx.volumes.ensure(request.workspaceId, request.diskMiB)
      : await ensurePlainVolume(ctx.stateDir, request.workspaceId);
  const container = new RunscContainer(ctx.cli, id, runDir, `/kiln/${id}`);
  let volRoot: string;
  try {
    volRoot = await prepareVolRoot(runDir);
    // Bound before the sandbox starts, a restored snapshot sees them like a cold boot does.
    await attachVolumes(runDir, await volumeBinds(ctx, request.workspaceId, request.volumes ?? []));
  } catch (error) {
    await container.removeFiles();
    throw error;
  }
  const spec = buildOciSpec({
    paths: { imageDir: ctx.imageDir, agentDir: ctx.agentDir, channelDir, volumeDir, volRoot },
    resources: request.resources,
    // The kernel's own env (its secrets) goes over the agent's socket once it is up, never into the
    // bundle: config.json is a file on the host's disk.
    env: { KILN_PRELOAD: ctx.preload.join(',') },
    cgroupsPath: container.cgroupsPath,
    // tini is PID 1 so processes orphaned inside the sandbox (a shell command's `cmd &`) are reaped
    // instead of piling up as zombies under the kernel until the process limit stops it.
    args: ['/usr/bin/tini', '--', '/usr/bin/python3', '/opt/kiln/agent/kiln_agent.py'],
    uid: SANDBOX_UID,
  });
  const gpus = request.gpuIndices ?? [];
  if (gpus.length > 0 && !ctx.nvidia) throw new Error('GPU sandbox requested without an NVIDIA host');
  await container.writeBundle(
    ctx.nvidia && gpus.length > 0 ? addGpuPassthrough(spec, ctx.nvidia, gpus) : spec,
  );
  const channel = new AgentChannel(channelDir);
  await channel.listen();
  const hello = channel.waitForHello(ctx.startTimeoutMs);
  hello.catch(() => undefined);
  try {
    container.learnSecrets(request.env);
    phases.mark('setup');
    if (request.snapshotPath) await container.restore(request.snapshotPath, request.restoreArgs);
    else await container.run();
    phases.mark(request.snapshotPath ? 'runsc restore' : 'runsc run');
    const died = container.exited().then((exit) => {
      throw new Error(`kernel exited during start (status ${exit.status}): ${exit.logTail}`);
    });
    await Promise.race([hello, died]);
    died.catch(() => undefined);
    phases.mark('agent hello');
    await initKernel(channel, request.env);
    await container.limitCpu(request.resources.cpu);
    phases.mark('env and CPU limit');
    console.log(`[kernel-gateway] sandbox ${id} ${request.snapshotPath ? 'restored' : 'booted'} ${phases}`);
  } catch (error) {
    await container.destroy();
    await channel.close();
    await container.removeFiles();
    throw error;
  }
  return { container, channel, workspaceId: request.workspaceId, resources: request.resources };
}

/** The host dirs of named volumes (mounted with their quotas), as they are bound into /vol. */
async function volumeBinds(
  ctx: LaunchContext,
  workspaceId: string,
  volumes: VolumeMountSpec[],
): Promise<VolumeBind[]> {
  if (volumes.length === 0) return [];
  const named = ctx.namedVolumes;
  if (!named) throw new Error('this node has no named volumes configured');
  const binds: VolumeBind[] = [];
  for (const volume of volumes) {
    // Checks the name again: it becomes a path on the host.
    volumeMountPath(volume.name);
    const source = await named.dir(workspaceId, volume.id, volume.quotaMiB);
    binds.push({ source, name: volume.name, readOnly: volume.readOnly });
  }
  return binds;
}

/**
 * Binds named volumes into a sandbox that is already running (a warm spare taken by a kernel that
 * names them): they appear at /vol/<name> through the shared /vol mount, without a restart.
 */
export async function attachNamedVolumes(
  ctx: LaunchContext,
  instance: SandboxInstance,
  volumes: VolumeMountSpec[],
): Promise<void> {
  await attachVolumes(instance.container.runDir, await volumeBinds(ctx, instance.workspaceId, volumes));
}

/** Gives the agent its kernel's env (and, restored from the shared snapshot, fresh random state); waits for it to confirm. */
function initKernel(channel: AgentChannel, env: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error('restored kernel did not accept its environment'));
    }, 10_000);
    const off = channel.onFrame((frame) => {
      if (frame.kind === 'command' && frame.command.op === 'init-done') {
        clearTimeout(timer);
        off();
        resolve();
      }
    });
    channel.command({ op: 'init', env });
  });
}

/**
 * Sends the kernel a `kernel_info_request` and waits for its reply. The first request a kernel serves
 * costs several times a later one (under systrap, ~45 ms against ~5 ms measured on a restored spare: the
 * dispatch path's memory is mapped back in and its first-call work done), so the snapshot template and
 * every warm spare serve one before anybody waits on them. Leaves no trace a user could see: no
 * execution count, no history, and nobody listens to a spare's iopub.
 */
export function warmUp(channel: AgentChannel, timeoutMs = 30_000): Promise<void> {
  const request = createMessage('shell', 'kernel_info_request', {});
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`the kernel did not answer its warm-up kernel_info within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = channel.onFrame((frame) => {
      if (frame.kind !== 'message' || frame.message.header.msg_type !== 'kernel_info_reply') return;
      if (frame.message.parent_header.msg_id !== request.header.msg_id) return;
      clearTimeout(timer);
      off();
      resolve();
    });
    channel.send(request);
  });
}

/** Asks the agent to let go of its socket, then checkpoints the container to `imagePath` (it stops). */
export async function checkpointInstance(
  instance: SandboxInstance,
  imagePath: string,
  args?: CheckpointArgs,
): Promise<void> {
  const { channel, container } = instance;
  const ready = new Promise<void>((resolve) => {
    const off = channel.onFrame((frame) => {
      if (frame.kind === 'command' && frame.command.op === 'checkpoint-ready') {
        off();
        resolve();
      }
    });
  });
  await channel.stopListening();
  channel.command({ op: 'checkpoint' });
  await ready;
  await channel.waitForDisconnect(10_000);
  await container.checkpoint(imagePath, args);
}

/** Stops the container and removes its run dir (never the workspace volume). */
export async function destroyInstance(instance: SandboxInstance): Promise<void> {
  await instance.container.destroy();
  await instance.channel.close();
  await instance.container.removeFiles();
}
