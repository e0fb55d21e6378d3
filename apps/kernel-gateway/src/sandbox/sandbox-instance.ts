import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { AgentChannel } from './agent-channel.ts';
import { addGpuPassthrough, type NvidiaHost } from './gpu-spec.ts';
import { buildOciSpec, SANDBOX_UID } from './oci-spec.ts';
import { claimRunDir } from './orphan-reaper.ts';
import type { RunscCli } from './runsc-cli.ts';
import { RunscContainer } from './runsc-container.ts';
import type { ResourceRequest } from './types.ts';
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
}

export interface LaunchRequest {
  workspaceId: string;
  resources: ResourceRequest;
  env: Record<string, string>;
  /** Restore this checkpoint instead of booting Python. */
  snapshotPath?: string;
  /** GPUs the scheduler placed this sandbox on (host indices); needs ctx.nvidia. */
  gpuIndices?: number[];
  /** Size of the workspace's volume; undefined mounts a plain dir (the snapshot template). */
  diskMiB?: number;
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
  const spec = buildOciSpec({
    paths: { imageDir: ctx.imageDir, agentDir: ctx.agentDir, channelDir, volumeDir },
    resources: request.resources,
    env: { ...request.env, KILN_PRELOAD: ctx.preload.join(',') },
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
    if (request.snapshotPath) await container.restore(request.snapshotPath);
    else await container.run();
    const died = container.exited().then((exit) => {
      throw new Error(`kernel exited during start (status ${exit.status}): ${exit.logTail}`);
    });
    await Promise.race([hello, died]);
    died.catch(() => undefined);
    if (request.snapshotPath) await initRestored(channel, request.env);
    await container.limitCpu(request.resources.cpu);
  } catch (error) {
    await container.destroy();
    await channel.close();
    await container.removeFiles();
    throw error;
  }
  return { container, channel, workspaceId: request.workspaceId, resources: request.resources };
}

/** Gives a restored agent its own env and random state, and waits for it to confirm. */
function initRestored(channel: AgentChannel, env: Record<string, string>): Promise<void> {
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

/** Asks the agent to let go of its socket, then checkpoints the container to `imagePath` (it stops). */
export async function checkpointInstance(instance: SandboxInstance, imagePath: string): Promise<void> {
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
  await container.checkpoint(imagePath);
}

/** Stops the container and removes its run dir (never the workspace volume). */
export async function destroyInstance(instance: SandboxInstance): Promise<void> {
  await instance.container.destroy();
  await instance.channel.close();
  await instance.container.removeFiles();
}
