import type { IncomingMessage, ServerResponse } from 'node:http';
import { DomainError } from '@kiln/core';
import type { Caller } from './auth.ts';

/** What a route handler gets: the caller, the URL and the path parameters. */
export interface RouteContext {
  request: IncomingMessage;
  response: ServerResponse;
  url: URL;
  caller: Caller;
  params: Record<string, string>;
}

type Handler = (context: RouteContext) => Promise<void> | void;

interface Route {
  method: string;
  pattern: RegExp;
  keys: string[];
  handler: Handler;
}

/** A small method+path router; `:name` segments become params. */
export class Router {
  private readonly routes: Route[] = [];

  add(method: string, path: string, handler: Handler): this {
    const keys: string[] = [];
    const source = path.replace(/:([a-z_]+)/gi, (_, key: string) => {
      keys.push(key);
      return '([^/]+)';
    });
    this.routes.push({ method, pattern: new RegExp(`^${source}/?$`), keys, handler });
    return this;
  }

  /** Finds the handler; unknown paths are 404 and known paths with another method 405. */
  match(method: string, pathname: string): { handler: Handler; params: Record<string, string> } {
    let pathMatched = false;
    for (const route of this.routes) {
      const found = route.pattern.exec(pathname);
      if (!found) continue;
      pathMatched = true;
      if (route.method !== method) continue;
      const params: Record<string, string> = {};
      route.keys.forEach((key, i) => {
        params[key] = decodeURIComponent(found[i + 1] ?? '');
      });
      return { handler: route.handler, params };
    }
    if (pathMatched) throw new MethodNotAllowed(method, pathname);
    throw new DomainError('NOT_FOUND', `No such endpoint: ${method} ${pathname}`);
  }
}

/** 405 for a known path asked with the wrong method. */
export class MethodNotAllowed extends Error {
  constructor(method: string, pathname: string) {
    super(`${method} is not allowed on ${pathname}`);
  }
}
