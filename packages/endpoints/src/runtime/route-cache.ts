import type { Db, EndpointModel, EndpointVersionModel } from '@kiln/db';
import { hashEndpointToken } from '../store/tokens.ts';

/** What a call needs before it reaches a pool: the endpoint's row and its live version's row. */
export interface Route {
  endpoint: EndpointModel;
  /** Null when the endpoint has no live version (or it is gone). */
  version: EndpointVersionModel | null;
}

export interface RouteCacheOptions {
  db: Db;
  /**
   * How long an entry is used without asking Postgres. This process forgets an endpoint's entries the
   * moment it deploys, rolls back, changes, deletes it or revokes one of its tokens; another web process
   * sees those changes at most this long after they commit.
   */
  ttlMs: number;
  now?: () => number;
}

/** Entries kept before expired ones are swept (a guard against many distinct slugs and labels). */
const SWEEP_AT = 10_000;

/**
 * The per-call lookups of the endpoint proxy, kept for a short time so a warm call does not wait for
 * Postgres: the endpoint and live version by workspace slug and label, and tokens that were accepted
 * (refusals are never kept, so a new token works at once). A lookup that started before an
 * invalidation never stores what it read, so a rollback cannot be undone by a slow read.
 */
export function createRouteCache(options: RouteCacheOptions) {
  const { db, ttlMs } = options;
  const now = options.now ?? Date.now;
  const routes = new Map<string, { route: Route; expires: number }>();
  const tokens = new Map<string, { endpointId: string; expires: number }>();
  let generation = 0;

  function sweep<T extends { expires: number }>(entries: Map<string, T>): void {
    if (entries.size < SWEEP_AT) return;
    const at = now();
    for (const [key, entry] of entries) if (entry.expires <= at) entries.delete(key);
  }

  return {
    async route(workspaceSlug: string, label: string): Promise<Route | null> {
      const key = `${workspaceSlug}/${label}`;
      const hit = routes.get(key);
      if (hit && hit.expires > now()) return hit.route;
      const began = generation;
      const endpoint = await db.endpoint.findFirst({ where: { label, workspace: { slug: workspaceSlug } } });
      if (!endpoint) {
        routes.delete(key);
        return null;
      }
      const version = endpoint.liveVersionId
        ? await db.endpointVersion.findUnique({ where: { id: endpoint.liveVersionId } })
        : null;
      const route: Route = { endpoint, version };
      if (began === generation) {
        sweep(routes);
        routes.set(key, { route, expires: now() + ttlMs });
      }
      return route;
    },

    /** Whether `token` may call `endpointId`: a kept acceptance, else `check` (which asks Postgres). */
    async tokenAllows(endpointId: string, token: string, check: () => Promise<boolean>): Promise<boolean> {
      const key = `${endpointId}:${hashEndpointToken(token)}`;
      const hit = tokens.get(key);
      if (hit && hit.expires > now()) return true;
      const began = generation;
      const allowed = await check();
      if (!allowed) tokens.delete(key);
      else if (began === generation) {
        sweep(tokens);
        tokens.set(key, { endpointId, expires: now() + ttlMs });
      }
      return allowed;
    },

    /** Drops everything kept about an endpoint (and any lookup still in flight) after it changed. */
    forget(endpointId: string): void {
      generation++;
      for (const [key, entry] of routes) if (entry.route.endpoint.id === endpointId) routes.delete(key);
      for (const [key, entry] of tokens) if (entry.endpointId === endpointId) tokens.delete(key);
    },
  };
}

export type RouteCache = ReturnType<typeof createRouteCache>;
