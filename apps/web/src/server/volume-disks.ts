import type { VolumeDisks } from '@kiln/api';
import type { Db } from '@kiln/db';
import { workspaceToken } from '@kiln/kernel-protocol/client';
import { reapVolumes } from '@kiln/volumes';

/**
 * Erases deleted volumes' disks on the nodes that hold them (the gateway refuses while a sandbox still
 * mounts one); `reapAll` is the housekeeping pass for those that had to wait.
 */
export function createVolumeDisks(options: { db: Db; secret: string }): VolumeDisks & {
  reapAll(): Promise<void>;
} {
  const reaper = {
    db: options.db,
    async erase(nodeUrl: string, workspaceId: string, volumeId: string) {
      const response = await fetch(`${nodeUrl}/kiln/volumes/${encodeURIComponent(volumeId)}`, {
        method: 'DELETE',
        headers: { authorization: `token ${workspaceToken(options.secret, workspaceId)}` },
      });
      if (response.ok || response.status === 404) return;
      const body = (await response.json().catch(() => null)) as { message?: string } | null;
      throw new Error(body?.message ?? `The node answered ${response.status}`);
    },
  };
  return {
    async reap(volumeId) {
      const result = await reapVolumes(reaper, volumeId);
      return {
        erased: result.erased.includes(volumeId),
        waiting: result.waiting.find((entry) => entry.volumeId === volumeId)?.reason ?? null,
      };
    },
    async reapAll() {
      await reapVolumes(reaper);
    },
  };
}
