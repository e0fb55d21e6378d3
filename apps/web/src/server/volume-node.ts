import { DomainError } from '@kiln/core';
import type { Scheduler } from '@kiln/scheduler';

/**
 * The gateway whose disk holds a workspace's volume or its `workspace` (the /workspace folder), as the
 * scheduler records it (kernels mounting it run there too); one nothing has used yet gets a node now.
 * Without a scheduler, or while no node is online, the configured gateway. A volume whose node is lost
 * cannot be reached: CONFLICT names the node.
 */
export async function volumeNodeUrl(
  scheduler: Pick<Scheduler, 'volumeNode' | 'workspaceDiskNode'> | undefined,
  workspaceId: string,
  volumeId: string,
  fallback: string | null,
): Promise<string | null> {
  if (!scheduler) return fallback;
  const workspace = volumeId === 'workspace';
  const node = workspace
    ? await scheduler.workspaceDiskNode(workspaceId)
    : await scheduler.volumeNode(workspaceId, volumeId);
  if (!node) return fallback;
  if (node.state !== 'active')
    throw new DomainError(
      'CONFLICT',
      `${workspace ? "This workspace's /workspace folder" : 'This volume'} lives on node ${node.id}, which is offline; its files are back when that node is`,
    );
  return node.url;
}
