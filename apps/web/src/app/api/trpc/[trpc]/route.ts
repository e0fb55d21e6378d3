import { appRouter, createContext, RETRY_AFTER_SECONDS, toTRPCError } from '@kiln/api';
import { fetchRequestHandler } from '@trpc/server/adapters/fetch';
import { batchRefusal } from '../../../../server/batch-policy.ts';
import { bodyLimitFor, formatLimit, limitBody } from '../../../../server/body-limit.ts';
import { contextOptionsFor } from '../../../../server/request-context.ts';

export const dynamic = 'force-dynamic';

async function handler(request: Request): Promise<Response> {
  const refusal = batchRefusal(request.url);
  if (refusal) return Response.json({ error: { message: refusal, code: 'BAD_REQUEST' } }, { status: 400 });
  const limit = bodyLimitFor(request.url);
  const limited = await limitBody(request, limit);
  if (!limited) {
    return Response.json(
      { error: { message: `Request body is larger than ${formatLimit(limit)}`, code: 'PAYLOAD_TOO_LARGE' } },
      { status: 413 },
    );
  }
  return fetchRequestHandler({
    endpoint: '/api/trpc',
    req: limited,
    router: appRouter,
    // The session lookup runs outside any procedure: map its errors the same way (503 in an outage).
    createContext: ({ resHeaders }) =>
      createContext(contextOptionsFor(limited, resHeaders)).catch((error: unknown) => {
        throw toTRPCError(error);
      }),
    responseMeta: ({ errors }) =>
      errors.some((error) => error.code === 'SERVICE_UNAVAILABLE')
        ? { headers: new Headers({ 'retry-after': String(RETRY_AFTER_SECONDS) }) }
        : {},
  });
}

export { handler as GET, handler as POST };
