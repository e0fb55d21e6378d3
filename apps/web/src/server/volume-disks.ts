import type { VolumeDisks } from '@kiln/api';
import type { Db } from '@kiln/db';
import { workspaceToken } from '@kiln/kernel-protocol/client';
import { type DiskTransfer, moveDisk, reapId, reapVolumes, type VolumeQuotas } from '@kiln/volumes';
import { createDiskTransfer } from './disk-transfer.ts';

/**
 * Erases deleted volumes' disks on the nodes that hold them (the gateway refuses while a sandbox still
 * mounts one), and moves disks between nodes; `reapAll` is the housekeeping pass for those that had to
 * wait.
 */
export function createVolumeDisks(options: {
  db: Db;
  secret: string;
  quotas?: VolumeQuotas;
  /** How files go between nodes (default: the gateways' file APIs). */
  transfer?: DiskTransfer;
}): VolumeDisks & {
  reapAll(): Promise<void>;
} {
  const reaper = {
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
  };
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
