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
 * (`adopt`, at once; the agent is reconnected in the background); the rest are deleted in the background
 * (`reaped`), and whatever nobody re-adopts is deleted by `reapUnadopted`.
 */
export function createOrphanAdoption(options: OrphanAdoptionOptions) {
  const { ctx } = options;
  const orphans = new Map<string, Orphan>();
  // Only files are read before re-adoption can start: runsc calls are slow on a loaded machine.
  const found = findOrphans(options.stateDir, options.hibernation.envSeal)
    .then(({ adoptable, spare }) => {
      for (const orphan of adoptable) orphans.set(orphan.record.kernelId, orphan);
      return spare;
    })
    .catch(() => []);
  const reaped = found
    .then(async (spare) => {
      await Promise.all(spare.map((orphan) => reapOrphan(ctx.cli, orphan.runDir, orphan.id)));
      if (spare.length > 0)
        console.log(
          `[kernel-gateway] stopped ${spare.length} spare sandboxes left by a gateway that crashed`,
        );
    })
    .catch((error: unknown) => console.error('[kernel-gateway] stopping spare sandboxes failed:', error));

  /** The re-adopted kernel sandbox of `orphan`, or throws why it cannot be. */
  async function take(orphan: Orphan, agentTimeoutMs: number): Promise<AdoptedRunscSandbox> {
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
    const adopted = (awaitingAgent: boolean) =>
      new RunscKernelSandbox(
        sandboxOptions,
        instance,
        record.startedFrom,
        options.source,
        options.hibernation,
        {
          hibernated: record.hibernated,
          ...(gpuIndices.length > 0 ? { gpuIndices } : {}),
          ...(record.checkpointKey ? { checkpointKey: record.checkpointKey } : {}),
          ...(awaitingAgent ? { awaitingAgent } : {}),
        },
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
      return { sandbox: adopted(false), hibernated: true };
    }
    // Its GPUs stay its own while it is being taken back; a failure releases them with the sandbox.
    if (gpuIndices.length > 0) options.placeGpus(record.kernelId, gpuIndices);
    const sandbox = adopted(true);
    // Waiting for the agent (seconds on a loaded machine, or never) must not hold up the gateway or the
    // other kernels: the kernel exists at once, messages to it wait in the channel until the agent is back.
    const reconnect = async (): Promise<{ busy: boolean }> => {
      try {
        if (!(await container.adopt())) throw new Error('its sandbox had stopped');
        await channel.listen();
        let hello: Record<string, unknown>;
        try {
          // The agent reconnects to the same socket path within milliseconds of it being there again.
          hello = await channel.waitForHello(agentTimeoutMs);
        } catch {
          throw new Error(`its kernel did not answer within ${Math.round(agentTimeoutMs / 1000)} s`);
        }
        sandbox.agentBack();
        return { busy: hello.busy === true };
      } catch (error) {
        await sandbox.shutdown();
        throw error;
      }
    };
    return { sandbox, hibernated: false, reconnect };
  }

  return {
    /** Resolves once the state dir was searched (files only). */
    found: found.then(() => undefined),
    /** Resolves once the orphans that hosted no kernel are deleted too. */
    reaped,
    /**
     * Re-adopts the sandbox of driver kernel `kernelId` (its agent is reconnected by `reconnect`, waiting
     * up to `agentTimeoutMs`), or stops it and throws why it could not.
     */
    async adopt(kernelId: string, agentTimeoutMs = 120_000): Promise<AdoptedRunscSandbox> {
      await found;
      const orphan = orphans.get(kernelId);
      orphans.delete(kernelId);
      if (!orphan) throw new Error('its sandbox is gone');
      try {
        return await take(orphan, agentTimeoutMs);
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
