'use client';
import type { AppRouter } from '@kiln/api';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { createTRPCClient, httpBatchLink, httpLink, splitLink, type TRPCClient } from '@trpc/client';
import { createTRPCOptionsProxy } from '@trpc/tanstack-react-query';
import { type ReactNode, useState } from 'react';
import superjson from 'superjson';
import { CSRF_COOKIE, CSRF_HEADER } from '../lib/cookie-names.ts';
import { readCookie } from '../lib/cookies.ts';
import { errorCode } from '../lib/errors.ts';
import { TRPCProvider } from '../lib/trpc.ts';
import { makeZodJitless } from '../lib/zod-jitless.ts';
import { CREDENTIAL_PROCEDURES, MAX_BATCH_CALLS } from '../server/batch-policy.ts';

makeZodJitless();

const NO_RETRY = new Set([
  'BAD_REQUEST',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'NOT_FOUND',
  'TOO_MANY_REQUESTS',
  'CONFLICT',
]);

// The server refuses batches that carry credential calls, and batches over MAX_BATCH_CALLS.
const UNBATCHED = new Set(['notebook.importIpynb', ...CREDENTIAL_PROCEDURES]);

function makeClients() {
  const queryClient = new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: 10_000,
        retry: (count, error) => count < 2 && !NO_RETRY.has(errorCode(error) ?? ''),
      },
    },
  });
  async function headers({
    opList,
  }: {
    opList: readonly { type: string }[];
  }): Promise<Record<string, string>> {
    if (!opList.some((op) => op.type === 'mutation')) return {};
    // Signed in: the session's token (from auth.me); signed out: the cookie the proxy set.
    const me: { csrfToken: string | null } | null = await queryClient.fetchQuery({
      ...proxy.auth.me.queryOptions(),
      staleTime: Number.POSITIVE_INFINITY,
    });
    const token = me?.csrfToken ?? readCookie(document.cookie, CSRF_COOKIE);
    return token ? { [CSRF_HEADER]: token } : {};
  }
  const trpcClient: TRPCClient<AppRouter> = createTRPCClient<AppRouter>({
    links: [
      // The server allows a large body only to a request made of imports alone, so imports never batch.
      splitLink({
        condition: (op) => UNBATCHED.has(op.path),
        true: httpLink({
          url: '/api/trpc',
          transformer: superjson,
          headers: ({ op }) => headers({ opList: [op] }),
        }),
        false: httpBatchLink({
          url: '/api/trpc',
          transformer: superjson,
          headers,
          maxItems: MAX_BATCH_CALLS,
        }),
      }),
    ],
  });
  const proxy = createTRPCOptionsProxy<AppRouter>({ client: trpcClient, queryClient });
  return { queryClient, trpcClient };
}

export function Providers({ children }: { children: ReactNode }) {
  const [{ queryClient, trpcClient }] = useState(makeClients);
  return (
    <QueryClientProvider client={queryClient}>
      <TRPCProvider trpcClient={trpcClient} queryClient={queryClient}>
        {children}
      </TRPCProvider>
    </QueryClientProvider>
  );
}
