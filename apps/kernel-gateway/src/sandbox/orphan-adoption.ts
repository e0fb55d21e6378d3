import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AgentChannel } from './agent-channel.ts';
import { type HibernationStorage, type InstanceSource, RunscKernelSandbox } from './kernel-sandbox.ts';
import { claimRunDir, findOrphans, type Orphan, reapOrphan } from './orphan-reaper.ts';
import { RunscContainer } from './runsc-container.ts';
import { attachNamedVolumes, type LaunchContext, type SandboxInstance } from './sandbox-instance.ts';
import type { AdoptedSandbox, KernelSandboxOptions } from './types.ts';

/** A re-adopted sandbox of the runsc driver. */
export interface AdoptedRunscSandbox extends AdoptedSandbox {
  sandbox: RunscKernelSandbox;
}

export interface OrphanAdoptionOptions {
  ctx: LaunchContext;
  stateDir: string;
  /** Where a re-adopted kernel's restarts get sandboxes from. */
  source: InstanceSource;
  /** The launch context of GPU sandboxes, or why there is none. */
  gpuContext: () => LaunchContext | string;
  /** Records the GPUs of a re-adopted kernel (its restarts reuse them). */
  placeGpus: (kernelId: string, indices: number[]) => void;
  /** Records the workspace's disk quota, as a start would. */
  noteDisk: (workspaceId: string, diskMiB: number) => void;
  /** Where a re-adopted kernel's later hibernation images are written in clear, and how. */
  hibernation: HibernationStorage;
}

/**
 * The sandboxes a gateway process that died left behind: those that hosted a kernel wait to be re-adopted
 * (`adopt`, reconnecting to the agent with the kernel's variables); the rest are deleted at once, and
 * whatever nobody re-adopts is deleted by `reapUnadopted`.
 */
export function createOrphanAdoption(options: OrphanAdoptionOptions) {
  const { ctx } = options;
  const orphans = new Map<string, Orphan>();
  const found = findOrphans(ctx.cli, options.stateDir, options.hibernation.envSeal)
    .then(({ adoptable, reaped }) => {
      for (const orphan of adoptable) orphans.set(orphan.record.kernelId, orphan);
      if (reaped.length > 0)
        console.log(
          `[kernel-gateway] stopped ${reaped.length} spare sandboxes left by a gateway that crashed`,
        );
    })
    .catch(() => undefined);

  /** The re-adopted kernel sandbox of `orphan`, or throws why it cannot be. */
  async function take(orphan: Orphan, helloTimeoutMs: number): Promise<AdoptedRunscSandbox> {
    const { record, runDir, id } = orphan;
    const gpuIndices = record.gpuIndices ?? [];
    const launch = gpuIndices.length > 0 ? options.gpuContext() : ctx;
    if (typeof launch === 'string') throw new Error(`its GPUs cannot be reached here: ${launch}`);
    const container = new RunscContainer(launch.cli, id, runDir, `/kiln/${id}`);
    if (record.env) container.learnSecrets(record.env);
    const channel = new AgentChannel(join(runDir, 'channel'));
    const instance: SandboxInstance = {
      container,
      channel,
      workspaceId: record.workspaceId,
      resources: record.resources,
    };
    await claimRunDir(runDir);
    const sandboxOptions: KernelSandboxOptions = {
      kernelId: record.kernelId,
      workspaceId: record.workspaceId,
      resources: record.resources,
      ...(record.env ? { env: record.env } : {}),
      ...(record.volumes ? { volumes: record.volumes } : {}),
      ...(record.diskMiB !== undefined ? { diskMiB: record.diskMiB } : {}),
    };
    if (record.diskMiB !== undefined) options.noteDisk(record.workspaceId, record.diskMiB);
    const placed = {
      hibernated: record.hibernated,
      ...(gpuIndices.length > 0 ? { gpuIndices } : {}),
      ...(record.checkpointKey ? { checkpointKey: record.checkpointKey } : {}),
    };
    const adopted = () =>
      new RunscKernelSandbox(
        sandboxOptions,
        instance,
        record.startedFrom,
        options.source,
        options.hibernation,
        placed,
      );
    if (record.hibernated) {
      // Its memory image is sealed; the key is in the record, itself sealed under the gateway's secret.
      // Without it (a gateway started with another secret) the kernel could never be woken: say so now.
      if (!record.checkpointKey)
        throw new Error('it was hibernated, and its sealed memory image cannot be opened by this gateway');
      if (!existsSync(join(runDir, 'hibernate', 'kiln-checkpoint.json')))
        throw new Error('its hibernation checkpoint is incomplete');
      // Its volumes stay bound in its run dir while it sleeps; after a host restart they are bound again,
      // or it would wake to empty dirs whose writes land outside the volume.
      if (record.volumes?.length) await attachNamedVolumes(launch, instance, record.volumes);
      return { sandbox: adopted(), busy: false, hibernated: true };
    }
    if (!(await container.adopt())) throw new Error('its sandbox had stopped');
    await channel.listen();
    let hello: Record<string, unknown>;
    try {
      // The agent reconnects to the same socket path within milliseconds of it being there again.
      hello = await channel.waitForHello(helloTimeoutMs);
    } catch {
      await channel.close();
      throw new Error(`its kernel did not answer within ${Math.round(helloTimeoutMs / 1000)} s`);
    }
    if (gpuIndices.length > 0) options.placeGpus(record.kernelId, gpuIndices);
    return { sandbox: adopted(), busy: hello.busy === true, hibernated: false };
  }

  return {
    /** Resolves once the state dir was searched and the orphans nobody can adopt are deleted. */
    found,
    /** Re-adopts the sandbox of driver kernel `kernelId`, or stops it and throws why it could not. */
    async adopt(kernelId: string, helloTimeoutMs = 15_000): Promise<AdoptedRunscSandbox> {
      await found;
      const orphan = orphans.get(kernelId);
      orphans.delete(kernelId);
      if (!orphan) throw new Error('its sandbox is gone');
      try {
        return await take(orphan, helloTimeoutMs);
      } catch (error) {
        await reapOrphan(ctx.cli, orphan.runDir, orphan.id);
        throw error;
      }
    },
    /** Deletes the orphans nobody re-adopted. */
    async reapUnadopted(): Promise<string[]> {
      await found;
      const left = [...orphans.values()];
      orphans.clear();
      await Promise.all(left.map((orphan) => reapOrphan(ctx.cli, orphan.runDir, orphan.id)));
      if (left.length > 0)
        console.log(`[kernel-gateway] stopped ${left.length} kernel sandboxes no kernel record claimed`);
      return left.map((orphan) => orphan.id);
    },
  };
}
