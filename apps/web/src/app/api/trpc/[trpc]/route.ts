import { appRouter, createContext } from '@kiln/api';
import { fetchRequestHandler } from '@trpc/server/adapters/fetch';
import { limitBody, MAX_BODY_BYTES } from '../../../../server/body-limit.ts';
import { contextOptionsFor } from '../../../../server/request-context.ts';

export const dynamic = 'force-dynamic';

async function handler(request: Request): Promise<Response> {
  const limited = await limitBody(request, MAX_BODY_BYTES);
  if (!limited) {
    return Response.json(
      { error: { message: 'Request body is larger than 1 MiB', code: 'PAYLOAD_TOO_LARGE' } },
      { status: 413 },
    );
  }
  return fetchRequestHandler({
    endpoint: '/api/trpc',
    req: limited,
    router: appRouter,
    createContext: ({ resHeaders }) => createContext(contextOptionsFor(limited, resHeaders)),
  });
}

export { handler as GET, handler as POST };
