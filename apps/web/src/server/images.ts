import type { Db } from '@kiln/db';
import { createImageStore, type ImageStore } from '@kiln/images/store';
import { createGatewayClient, workspaceToken } from '@kiln/kernel-protocol/client';
import type { Scheduler } from '@kiln/scheduler';
import { volumeNodeUrl } from './volume-node.ts';

/**
 * Workspace images, built by the kernel gateway where the workspace's kernels run: the node holding its
 * /workspace folder, where the scheduler places all of them (given one now if it has none); the
 * configured gateway while no node is online. A workspace whose node is lost cannot build until it is
 * back (its kernels cannot start either), and is told so. Build calls carry a token scoped to the asking
 * workspace; pruning the builds no image names goes to every active node (each may hold a copy) with the
 * gateways' token.
 */
export function createWebImages(
  db: Db,
  gateway: { url: string | null; secret: string } | null,
  scheduler: Pick<Scheduler, 'listNodes' | 'volumeNode' | 'workspaceDiskNode'>,
  onError: (error: unknown) => void = (error) => console.error('pruning built images failed', error),
): ImageStore {
  const activeNodes = async () =>
    (await scheduler.listNodes()).filter((node) => node.state === 'active').map((node) => node.url);
  return createImageStore({
    db,
    gateway: async (workspaceId) => {
      if (!gateway) return null;
      const url = await volumeNodeUrl(scheduler, workspaceId, 'workspace', gateway.url);
      if (!url) return null;
      return createGatewayClient({ baseUrl: url, token: workspaceToken(gateway.secret, workspaceId) });
    },
    prune: async (keep) => {
      if (!gateway) return;
      const urls = new Set([...(gateway.url ? [gateway.url] : []), ...(await activeNodes())]);
      const results = await Promise.allSettled(
        [...urls].map((baseUrl) => createGatewayClient({ baseUrl, token: gateway.secret }).pruneImages(keep)),
      );
      for (const result of results) if (result.status === 'rejected') onError(result.reason);
    },
    onError,
  });
}
