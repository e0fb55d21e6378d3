import { getEnv } from '../../../../../../../env.ts';
import { getDb } from '../../../../../../../server/db.ts';
import { proxyVolumeRequest } from '../../../../../../../server/volume-proxy.ts';

export const dynamic = 'force-dynamic';

type Params = { params: Promise<{ workspaceId: string; volume: string; op: string }> };

async function handle(request: Request, { params }: Params): Promise<Response> {
  return proxyVolumeRequest(request, await params, { db: getDb(), gateway: getEnv().kernelGateway });
}

/** Browse (`tree`) and download (`file`) the workspace volume. */
export const GET = handle;
/** Upload a file (`file`). */
export const PUT = handle;
/** Make a folder (`folder`). */
export const POST = handle;
