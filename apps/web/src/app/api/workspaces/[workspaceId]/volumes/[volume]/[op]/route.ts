import { getEnv } from '../../../../../../../env.ts';
import { getDb } from '../../../../../../../server/db.ts';
import { proxyVolumeRequest } from '../../../../../../../server/volume-proxy.ts';

export const dynamic = 'force-dynamic';

type Params = { params: Promise<{ workspaceId: string; volume: string; op: string }> };

async function handle(request: Request, { params }: Params): Promise<Response> {
  // Volumes live on one node's disk; until volumes move between nodes, the file browser talks to the
  // gateway named by KERNEL_GATEWAY_URL (npm start sets it to its one node).
  const gateway = getEnv().kernelGateway;
  const url = gateway?.url;
  return proxyVolumeRequest(request, await params, {
    db: getDb(),
    gateway: gateway && url ? { url, secret: gateway.secret } : null,
  });
}

/** Browse (`tree`) and download (`file`) the workspace volume. */
export const GET = handle;
/** Upload a file (`file`). */
export const PUT = handle;
/** Make a folder (`folder`). */
export const POST = handle;
