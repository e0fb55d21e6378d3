import { randomUUID } from 'node:crypto';
import { recordAudit } from '@kiln/accounts';
import { checkSpend, DEFAULT_PRICE_BOOK, type PriceBook, sliceRates } from '@kiln/billing';
import { DomainError } from '@kiln/core';
import type { Db, EndpointModel, EndpointVersionModel } from '@kiln/db';
import { parseGpuString } from '@kiln/scheduler';
import {
  type Actor,
  createEndpointStore,
  type EndpointStoreOptions,
  endpointView,
} from '../store/endpoint-store.ts';
import { createRequestLog } from '../store/request-log.ts';
import { sandboxOf } from '../store/version-sandbox.ts';
import { createVersionStore, type NewVersion, type VersionView } from '../store/version-store.ts';
import {
  type CallOutcome,
  CallRefused,
  EndpointPool,
  loadVersion,
  moduleCode,
  outcomeOf,
  type PoolConfig,
  type ServedVersion,
} from './endpoint-pool.ts';
import { type CallResult, callCode } from './python-call.ts';
import type { ReplicaHost } from './replica-host.ts';
import { createRouteCache, type Route } from './route-cache.ts';

export interface EndpointRuntimeOptions extends EndpointStoreOptions {
  db: Db;
  host: ReplicaHost;
  /** Prices a request's share of its replica (the ledger bills the replica itself per second). */
  priceBook?: PriceBook;
  /** How often pools re-run the autoscaler to scale idle endpoints down (default 1 s). */
  tickMs?: number;
  /**
   * How long a call trusts the endpoint, live version and token it looked up (default 2 s). This
   * process applies its own deploys, rollbacks, changes and revocations at once; other web processes
   * within this bound.
   */
  routeCacheMs?: number;
}

/** The default bound on how late another web process sees a rollback, deploy or token revocation. */
export const ROUTE_CACHE_MS = 2000;

/** A call as the HTTP layer hands it over, after routing and before authentication. */
export interface IncomingCall {
  workspaceSlug: string;
  label: string;
  method: string;
  /** The bearer token, if any. */
  token: string | null;
}

/** What the HTTP layer answers with. `requestId` also goes in `x-kiln-request-id`. */
export interface CallAnswer extends CallOutcome {
  requestId: string;
  retryAfterSeconds?: number;
  costNanos: number;
}

function isAsyncFunction(source: string, name: string): boolean {
  return new RegExp(`^async\\s+def\\s+${name}\\s*\\(`, 'm').test(source);
}

function served(version: EndpointVersionModel): ServedVersion {
  return {
    id: version.id,
    source: version.source,
    functionName: version.functionName,
    isAsync: isAsyncFunction(version.source, version.functionName),
    sandbox: sandboxOf(version),
  };
}

/**
 * Serves a web process's endpoints: resolves and authenticates calls (before any container starts),
 * keeps one replica pool per endpoint, deploys versions behind a smoke test, logs and prices each call.
 */
export function createEndpointRuntime(options: EndpointRuntimeOptions) {
  const { db, host } = options;
  const store = createEndpointStore(options);
  const versions = createVersionStore({ db });
  const log = createRequestLog({ db });
  const book = options.priceBook ?? DEFAULT_PRICE_BOOK;
  const pools = new Map<string, EndpointPool>();
  const cache = createRouteCache({ db, ttlMs: options.routeCacheMs ?? ROUTE_CACHE_MS });
  // A cached route keeps its pool config, so a warm call builds nothing (the async check reads the source).
  const configs = new WeakMap<Route, PoolConfig>();
  /**
   * Replicas start only while the workspace may spend: the same ledger check that refuses to start a
   * notebook's kernel (Starter credits used up, a hard cap reached, an unpaid invoice) answers 402.
   */
  const billedHost: ReplicaHost = {
    async start(request) {
      const spend = await checkSpend(db, request.workspaceId);
      if (!spend.allowed) throw new CallRefused(402, `No replica was started: ${spend.message}`);
      return host.start(request);
    },
  };
  const timer = setInterval(() => {
    for (const [id, pool] of pools) {
      pool.scale();
      if (pool.idle) pools.delete(id);
    }
  }, options.tickMs ?? 1000);
  timer.unref();

  function configOf(endpoint: EndpointModel, version: EndpointVersionModel): PoolConfig {
    return {
      endpointId: endpoint.id,
      workspaceId: endpoint.workspaceId,
      settings: endpointView(endpoint).settings,
      version: served(version),
      stamp: endpoint.updatedAt.getTime(),
    };
  }

  function routeConfig(route: Route, version: EndpointVersionModel): PoolConfig {
    let config = configs.get(route);
    if (!config) {
      config = configOf(route.endpoint, version);
      configs.set(route, config);
    }
    return config;
  }

  function poolFor(config: PoolConfig): EndpointPool {
    let pool = pools.get(config.endpointId);
    if (!pool) {
      pool = new EndpointPool(config, billedHost);
      pools.set(config.endpointId, pool);
    } else pool.update(config);
    return pool;
  }

  /** Nano-dollars for `ms` of the endpoint's machine (what the ledger bills the replica for that time). */
  function priceOf(endpoint: EndpointModel, ms: number): number {
    const gpu = endpoint.gpuRequest[0] ? parseGpuString(endpoint.gpuRequest[0]) : null;
    const rates = sliceRates(book, {
      cpuMillicores: Math.round(endpoint.cpu * 1000),
      memoryMiB: endpoint.memoryMiB,
      gpu: gpu ? { type: gpu.type, count: gpu.count } : null,
    });
    const femto = (rates.gpu + rates.cpu + rates.memory) * BigInt(Math.max(0, Math.round(ms)));
    return Number(femto / 1_000_000n);
  }

  /** What ends one call: its answer queued for the request log and returned. */
  function finisher(
    endpoint: EndpointModel,
    call: { requestId: string; started: number; method: string; scheduleId: string | null },
  ) {
    return (
      answer: Omit<CallAnswer, 'requestId' | 'costNanos'>,
      costNanos = 0,
      versionId: string | null = null,
    ): CallAnswer => {
      const latencyMs = Math.round(performance.now() - call.started);
      log.record({
        id: call.requestId,
        endpointId: endpoint.id,
        workspaceId: endpoint.workspaceId,
        versionId,
        at: new Date(),
        method: call.method,
        status: answer.status,
        latencyMs,
        replicaId: answer.replicaId,
        costNanos: BigInt(costNanos),
        error: answer.error ?? null,
        scheduleId: call.scheduleId,
      });
      return { ...answer, requestId: call.requestId, costNanos };
    };
  }

  /** The live version's call through the endpoint's pool, once the caller is let in. */
  async function invoke(
    route: Route,
    finish: ReturnType<typeof finisher>,
    kwargsJson: () => Promise<string>,
  ): Promise<CallAnswer> {
    const { endpoint } = route;
    if (!endpoint.liveVersionId)
      return finish({
        status: 503,
        error: 'The endpoint has no live version yet: deploy one that passes its smoke test',
        replicaId: null,
        retryAfterSeconds: 30,
      });
    let kwargs: string;
    try {
      kwargs = await kwargsJson();
    } catch (error) {
      const refused = error instanceof CallRefused ? error : new CallRefused(400, String(error));
      return finish({ status: refused.status, error: refused.message, replicaId: null });
    }
    const { version } = route;
    if (!version) return finish({ status: 503, error: 'The live version is gone', replicaId: null });
    // A call that looked the endpoint up before a rollback is served by the pool's newer version.
    const pool = poolFor(routeConfig(route, version));
    const callStarted = performance.now();
    try {
      const outcome = await pool.call(kwargs);
      const cost = outcome.replicaId ? priceOf(endpoint, performance.now() - callStarted) : 0;
      return finish(outcome, cost, outcome.versionId ?? version.id);
    } catch (error) {
      const refused = error instanceof CallRefused ? error : new CallRefused(500, String(error));
      return finish(
        {
          status: refused.status,
          error: refused.message,
          replicaId: null,
          retryAfterSeconds: refused.retryAfterSeconds,
        },
        0,
        version.id,
      );
    }
  }

  /** After a change to an endpoint: forget what calls looked up and bring its pool up to date. */
  async function refreshPool(endpointId: string): Promise<void> {
    cache.forget(endpointId);
    const pool = pools.get(endpointId);
    if (!pool) return;
    const endpoint = await db.endpoint.findUnique({ where: { id: endpointId } });
    const version = endpoint?.liveVersionId
      ? await db.endpointVersion.findUnique({ where: { id: endpoint.liveVersionId } })
      : null;
    if (!endpoint || !version) {
      pools.delete(endpointId);
      await pool.close('The endpoint was deleted');
    } else pool.update(configOf(endpoint, version));
  }

  return {
    store: {
      ...store,
      /** Revokes a token; this process refuses it from now on, other web processes within the cache bound. */
      async revokeToken(...args: Parameters<typeof store.revokeToken>) {
        const view = await store.revokeToken(...args);
        cache.forget(args[1]);
        return view;
      },
    },
    versions,
    log,

    /** Answers one call. Never throws: every failure is an HTTP status with a message. */
    async call(incoming: IncomingCall, kwargsJson: () => Promise<string>): Promise<CallAnswer> {
      const requestId = randomUUID();
      const started = performance.now();
      const route = await cache.route(incoming.workspaceSlug, incoming.label);
      if (!route) return { requestId, status: 404, error: 'No such endpoint', replicaId: null, costNanos: 0 };
      const { endpoint } = route;
      const finish = finisher(endpoint, { requestId, started, method: incoming.method, scheduleId: null });
      if (!endpoint.public) {
        if (!incoming.token)
          return finish({
            status: 401,
            error: 'This endpoint needs a token: send Authorization: Bearer <token>',
            replicaId: null,
          });
        const token = incoming.token;
        if (!(await cache.tokenAllows(endpoint.id, token, () => store.tokenAllows(endpoint.id, token))))
          return finish({
            status: 401,
            error: "The token is not valid for this endpoint (wrong, revoked, or another endpoint's)",
            replicaId: null,
          });
      }
      return invoke(route, finish, kwargsJson);
    },

    /**
     * A schedule's call of an endpoint of its workspace: no token (the schedule's creator was an
     * editor), otherwise the same path as an HTTP call: live version, pool, timeout, price, and a
     * row in the request log marked with the schedule. Read fresh, so a tick follows a rollback.
     */
    async callScheduled(
      target: { workspaceId: string; endpointId: string; scheduleId: string },
      kwargsJson: string,
    ): Promise<CallAnswer> {
      const requestId = randomUUID();
      const started = performance.now();
      const endpoint = await db.endpoint.findFirst({
        where: { id: target.endpointId, workspaceId: target.workspaceId },
      });
      if (!endpoint)
        return {
          requestId,
          status: 404,
          error: 'The endpoint no longer exists',
          replicaId: null,
          costNanos: 0,
        };
      const version = endpoint.liveVersionId
        ? await db.endpointVersion.findUnique({ where: { id: endpoint.liveVersionId } })
        : null;
      const finish = finisher(endpoint, {
        requestId,
        started,
        method: 'SCHEDULE',
        scheduleId: target.scheduleId,
      });
      return invoke({ endpoint, version }, finish, async () => kwargsJson);
    },

    /**
     * Creates a version and smoke-tests it in a fresh replica with its sample input. A pass makes it live
     * (and the replica serves); a failure keeps the previous version live and records the Python error.
     */
    async deploy(
      workspaceId: string,
      endpointId: string,
      actor: Actor,
      input: NewVersion,
    ): Promise<VersionView> {
      const endpoint = await store.row(workspaceId, endpointId);
      // The smoke test is a billed replica: refused, like a kernel start, when the workspace may not spend.
      const spend = await checkSpend(db, workspaceId);
      if (!spend.allowed) throw new DomainError('SPEND_LIMIT_REACHED', spend.message, { reason: spend.code });
      const version = await versions.add(workspaceId, endpointId, actor.userId, input);
      const row = await db.endpointVersion.findUniqueOrThrow({ where: { id: version.id } });
      const timeoutMs = endpoint.timeoutSeconds * 1000;
      let handle: Awaited<ReturnType<ReplicaHost['start']>> | undefined;
      let outcome: CallOutcome;
      try {
        handle = await host.start({
          workspaceId,
          endpointId,
          requestedById: actor.userId,
          resources: { cpu: endpoint.cpu, memoryMiB: endpoint.memoryMiB, gpu: endpoint.gpuRequest },
          sandbox: served(row).sandbox,
          module: moduleCode(served(row)),
        });
        await loadVersion(handle, served(row), timeoutMs);
        const run = await handle.execute(
          callCode(JSON.stringify(input.sampleInput), served(row).isAsync),
          timeoutMs,
        );
        if (run.kind === 'ok') outcome = outcomeOf(run.results[0] as CallResult | undefined, handle.id);
        else if (run.kind === 'error') outcome = { status: 500, error: run.error, replicaId: handle.id };
        else
          outcome = {
            status: 504,
            error: run.kind === 'died' ? run.reason : 'The smoke test timed out',
            replicaId: handle.id,
          };
      } catch (error) {
        outcome = {
          status: 500,
          error: error instanceof Error ? error.message : String(error),
          replicaId: null,
        };
      }
      const passed = outcome.status === 200;
      const settled = await versions.settle(
        version.id,
        passed
          ? { passed: true, result: JSON.parse(outcome.body ?? 'null') }
          : { passed: false, error: outcome.error ?? 'failed' },
      );
      if (passed && handle) {
        cache.forget(endpointId);
        const fresh = await db.endpoint.findUniqueOrThrow({ where: { id: endpointId } });
        poolFor(configOf(fresh, row)).adopt(handle, served(row));
      } else await handle?.stop('Smoke test failed').catch(() => undefined);
      await recordAudit(db, {
        action: 'endpoint.deployed',
        workspaceId,
        actorId: actor.userId,
        target: endpoint.label,
        metadata: {
          version: settled.number,
          function: settled.functionName,
          smoke: settled.smoke.status,
          image: settled.sandbox.image?.name ?? null,
          secrets: settled.sandbox.secrets.map((secret) => secret.name),
          volumes: settled.sandbox.volumes.map((volume) => volume.name),
        },
        ip: actor.ip,
      });
      return settled;
    },

    async rollback(
      workspaceId: string,
      endpointId: string,
      versionId: string,
      actor: Actor,
    ): Promise<VersionView> {
      const view = await versions.rollback(workspaceId, endpointId, versionId);
      await refreshPool(endpointId);
      const endpoint = await store.row(workspaceId, endpointId);
      await recordAudit(db, {
        action: 'endpoint.rolled_back',
        workspaceId,
        actorId: actor.userId,
        target: endpoint.label,
        metadata: { version: view.number },
        ip: actor.ip,
      });
      return view;
    },

    async updateSettings(
      workspaceId: string,
      endpointId: string,
      settings: Parameters<typeof store.update>[2],
      actor: Actor = { userId: null },
    ) {
      const view = await store.update(workspaceId, endpointId, settings, actor);
      await refreshPool(endpointId);
      return view;
    },

    async remove(workspaceId: string, endpointId: string, actor: Actor): Promise<void> {
      await store.remove(workspaceId, endpointId, actor);
      await refreshPool(endpointId);
    },

    /**
     * Stops a replica this process runs (billing's cap enforcement: a replica keeps no state worth
     * pausing); the next call needs a new one, which the spending check refuses. False if not held here.
     */
    async stopReplica(containerId: string, reason: string): Promise<boolean> {
      for (const pool of pools.values()) if (await pool.stopReplica(containerId, reason)) return true;
      return false;
    },

    /** Calls of an endpoint waiting in this process's queue for a replica. */
    waiting(endpointId: string): number {
      return pools.get(endpointId)?.waiting ?? 0;
    },

    /** Replicas this process runs for an endpoint (its page's "live replicas"). */
    replicas(endpointId: string) {
      return pools.get(endpointId)?.status() ?? [];
    },

    async close(): Promise<void> {
      clearInterval(timer);
      await Promise.all([...pools.values()].map((pool) => pool.close('Kiln is shutting down')));
      pools.clear();
      await log.flush();
    },
  };
}

export type EndpointRuntime = ReturnType<typeof createEndpointRuntime>;
