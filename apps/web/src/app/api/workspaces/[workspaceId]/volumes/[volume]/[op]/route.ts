import { getEnv } from '../../../../../../../env.ts';
import { getDb } from '../../../../../../../server/db.ts';
import { getNotebookServices } from '../../../../../../../server/notebook-services-slot.ts';
import { volumeNodeUrl } from '../../../../../../../server/volume-node.ts';
import { proxyVolumeRequest } from '../../../../../../../server/volume-proxy.ts';
import { getVolumes } from '../../../../../../../server/volumes.ts';

export const dynamic = 'force-dynamic';

type Params = { params: Promise<{ workspaceId: string; volume: string; op: string }> };

async function handle(request: Request, { params }: Params): Promise<Response> {
  // The node that holds the volume, as the scheduler records it (KERNEL_GATEWAY_URL only without nodes).
  const gateway = getEnv().kernelGateway;
  return proxyVolumeRequest(request, await params, {
    db: getDb(),
    gateway: gateway
      ? {
          secret: gateway.secret,
          url: (workspaceId, volume) =>
            volumeNodeUrl(getNotebookServices()?.scheduler, workspaceId, volume, gateway.url),
        }
      : null,
    volumes: getVolumes(),
  });
}

/** Browse (`tree`), usage, download (`file`), and an upload's offset (`upload`). */
export const GET = handle;
/** Upload a whole file (`file`). */
export const PUT = handle;
/** Make a folder, rename (`move`), or begin a resumable upload (`upload`). */
export const POST = handle;
/** Send the next bytes of a resumable upload. */
export const PATCH = handle;
/** Delete a file or folder, or give an upload up. */
export const DELETE = handle;
