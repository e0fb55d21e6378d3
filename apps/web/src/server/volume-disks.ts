import type { VolumeDisks } from '@kiln/api';
import type { Db } from '@kiln/db';
import { createGatewayClient, GatewayError, workspaceToken } from '@kiln/kernel-protocol/client';
import type { Scheduler } from '@kiln/scheduler';
import {
  type DiskTransfer,
  type LiveMount,
  moveDisk,
  reapId,
  reapVolumes,
  type VolumeQuotas,
  type VolumeReaperOptions,
} from '@kiln/volumes';
import { createDiskTransfer } from './disk-transfer.ts';

/**
 * Erases deleted volumes' disks on the nodes that hold them, first stopping the kernels that still
 * mount them (hibernated ones too) with the reason their notebooks show, and moves disks between
 * nodes; `reapAll` is the housekeeping pass for those that had to wait.
 */
export function createVolumeDisks(options: {
  db: Db;
  secret: string;
  quotas?: VolumeQuotas;
  /**
   * Records the stops of kernels that mounted a deleted volume; without it they are not stopped and
   * the erase waits until they stop by themselves.
   */
  scheduler?: Pick<Scheduler, 'stop'>;
  /** How files go between nodes (default: the gateways' file APIs). */
  transfer?: DiskTransfer;
}): VolumeDisks & {
  reapAll(): Promise<void>;
} {
  const reaper = createVolumeReaper(options);
  const transfer = options.transfer ?? createDiskTransfer({ secret: options.secret });
  async function reap(volumeId: string) {
    const result = await reapVolumes(reaper, volumeId);
    return {
      erased: result.erased.includes(volumeId),
      waiting: result.waiting.find((entry) => entry.volumeId === volumeId)?.reason ?? null,
    };
  }
  return {
    reap,
    async move(input) {
      const moved = await moveDisk({ db: options.db, transfer, quotas: options.quotas }, input);
      if (moved.from === null) return moved;
      const old = await reap(reapId(input.workspaceId, input.disk));
      return { ...moved, oldCopyErased: old.erased, oldCopyWaiting: old.erased ? null : old.waiting };
    },
    async reapAll() {
      await reapVolumes(reaper);
    },
  };
}

/** How deleted and moved disks are erased on their nodes, and how their kernels are stopped first. */
export function createVolumeReaper(options: {
  db: Db;
  secret: string;
  scheduler?: Pick<Scheduler, 'stop'>;
}): VolumeReaperOptions {
  return {
    db: options.db,
    async erase(nodeUrl: string, workspaceId: string, volume: string) {
      const response = await fetch(`${nodeUrl}/kiln/volumes/${encodeURIComponent(volume)}`, {
        method: 'DELETE',
        headers: { authorization: `token ${workspaceToken(options.secret, workspaceId)}` },
      });
      if (response.ok || response.status === 404) return;
      const body = (await response.json().catch(() => null)) as { message?: string } | null;
      throw new Error(body?.message ?? `The node answered ${response.status}`);
    },
    scheduler: options.scheduler,
    ...(options.scheduler
      ? {
          async stopContainer(mount: LiveMount, reason: string) {
            if (!mount.nodeUrl || mount.nodeState !== 'active')
              throw new Error(`its node ${mount.nodeId ?? '(none)'} is offline`);
            const token = workspaceToken(options.secret, mount.workspaceId);
            try {
              await createGatewayClient({ baseUrl: mount.nodeUrl, token }).shutdownKernel(
                mount.containerId,
                reason,
              );
            } catch (error) {
              // Gone already (stopped, or never started there): nothing mounts the disk from it.
              if (!(error instanceof GatewayError && (error.status === 404 || error.status === 410)))
                throw error;
            }
          },
        }
      : {}),
  };
}
