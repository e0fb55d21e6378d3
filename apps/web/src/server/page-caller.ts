import { appRouter, createCallerFactory, createContext } from '@kiln/api';
import { headers } from 'next/headers';
import { cache } from 'react';
import { getEnv } from '../env.ts';
import { contextOptionsFor } from './request-context.ts';

const createCaller = createCallerFactory(appRouter);

/**
 * The API as the signed-in visitor of this page request, for server components: the same
 * procedures, permissions and errors the browser gets over HTTP, without the round trips. One
 * caller per request (React's cache), so the layout and the page share it.
 */
export const pageCaller = cache(async () => {
  // headers() first: it marks the page as rendered per request before anything reads the environment.
  const requestHeaders = await headers();
  const request = new Request(getEnv().appUrl, { headers: requestHeaders });
  // A server component cannot set cookies; a session refresh happens on the next API call instead.
  return createCaller(await createContext(contextOptionsFor(request, new Headers())));
});
