import { randomUUID } from 'node:crypto';
import { recordAudit } from '@kiln/accounts';
import { PLANS } from '@kiln/billing';
import { DomainError } from '@kiln/core';
import { type Db, type EndpointModel, type EndpointTokenModel, type PlanTier, Prisma } from '@kiln/db';
import { DEFAULT_SETTINGS, type EndpointSettings, resolveSettings, validateLabel } from './settings.ts';
import { hashEndpointToken, newEndpointToken } from './tokens.ts';

export interface EndpointView {
  id: string;
  workspaceId: string;
  label: string;
  settings: EndpointSettings;
  liveVersionId: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface EndpointTokenView {
  id: string;
  name: string;
  prefix: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

export interface Actor {
  userId: string | null;
  ip?: string | null;
}

export interface EndpointStoreOptions {
  db: Db;
  /** Web endpoints per workspace by plan (null: unlimited); defaults to @kiln/billing's PLANS. */
  limits?: Partial<Record<PlanTier, number | null>>;
}

export function endpointView(row: EndpointModel): EndpointView {
  return {
    id: row.id,
    workspaceId: row.workspaceId,
    label: row.label,
    settings: {
      public: row.public,
      cpu: row.cpu,
      memoryMiB: row.memoryMiB,
      gpu: row.gpuRequest,
      minReplicas: row.minReplicas,
      maxReplicas: row.maxReplicas,
      bufferReplicas: row.bufferReplicas,
      scaleDownSeconds: row.scaleDownSeconds,
      targetConcurrency: row.targetConcurrency,
      timeoutSeconds: row.timeoutSeconds,
      queueLimit: row.queueLimit,
    },
    liveVersionId: row.liveVersionId,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

function tokenView(row: EndpointTokenModel): EndpointTokenView {
  const { id, name, prefix, createdAt, lastUsedAt, revokedAt } = row;
  return { id, name, prefix, createdAt, lastUsedAt, revokedAt };
}

function isUniqueViolation(error: unknown): boolean {
  // A raw statement's error carries Postgres' own code (23505: unique_violation) from the driver.
  const known = error as {
    code?: string;
    meta?: { driverAdapterError?: { cause?: { originalCode?: string } } };
  } | null;
  return known?.code === 'P2002' || known?.meta?.driverAdapterError?.cause?.originalCode === '23505';
}

function columns(settings: EndpointSettings) {
  const { public: isPublic, gpu, ...rest } = settings;
  return { ...rest, public: isPublic, gpuRequest: gpu };
}

/** Endpoints of a workspace: settings, plan limits and tokens. Every call is scoped to one workspace. */
export function createEndpointStore(options: EndpointStoreOptions) {
  const { db } = options;
  const limitOf = (plan: PlanTier) =>
    plan in (options.limits ?? {}) ? (options.limits?.[plan] ?? null) : PLANS[plan].webEndpoints;

  async function row(workspaceId: string, id: string): Promise<EndpointModel> {
    const found = await db.endpoint.findFirst({ where: { id, workspaceId } });
    if (!found) throw new DomainError('NOT_FOUND', 'No such endpoint in this workspace');
    return found;
  }

  return {
    get: async (workspaceId: string, id: string) => endpointView(await row(workspaceId, id)),
    row,

    async list(workspaceId: string): Promise<EndpointView[]> {
      const rows = await db.endpoint.findMany({ where: { workspaceId }, orderBy: { label: 'asc' } });
      return rows.map(endpointView);
    },

    /**
     * Creates an endpoint within the plan's limit. One statement takes a place in the workspace's
     * `endpointCount` (the row's update waits for a concurrent create and re-checks the count it
     * committed) and inserts the endpoint; a label already taken aborts both. No interactive
     * transaction: a lock wait or a starved process cannot make it time out half done.
     */
    async create(
      workspaceId: string,
      actor: Actor,
      input: { label: string; settings?: Partial<EndpointSettings> },
    ): Promise<EndpointView> {
      const label = validateLabel(input.label);
      const settings = resolveSettings(DEFAULT_SETTINGS, input.settings ?? {});
      // The limit of the plan the workspace has when the row is updated, NULL for unlimited.
      const limitSql = Prisma.sql`CASE plan::text ${Prisma.join(
        (Object.keys(PLANS) as PlanTier[]).map((plan) => Prisma.sql`WHEN ${plan} THEN ${limitOf(plan)}::int`),
        ' ',
      )} END`;
      let created: { id: string }[];
      try {
        created = await db.$queryRaw<{ id: string }[]>`
          WITH place AS (
            UPDATE "Workspace" SET "endpointCount" = "endpointCount" + 1
            WHERE id = ${workspaceId}::uuid
              AND ((${limitSql}) IS NULL OR "endpointCount" < (${limitSql}))
            RETURNING id
          )
          INSERT INTO "Endpoint" (
            id, "workspaceId", label, public, cpu, "memoryMiB", "gpuRequest", "minReplicas",
            "maxReplicas", "bufferReplicas", "scaleDownSeconds", "targetConcurrency",
            "timeoutSeconds", "queueLimit", "createdById", "updatedAt")
          SELECT ${randomUUID()}::uuid, place.id, ${label}, ${settings.public}, ${settings.cpu}::float8,
            ${settings.memoryMiB}::int, ${settings.gpu}::text[], ${settings.minReplicas}::int,
            ${settings.maxReplicas}::int, ${settings.bufferReplicas}::int,
            ${settings.scaleDownSeconds}::int, ${settings.targetConcurrency}::int,
            ${settings.timeoutSeconds}::int, ${settings.queueLimit}::int, ${actor.userId}::uuid, now()
          FROM place
          RETURNING id::text AS id`;
      } catch (error) {
        if (isUniqueViolation(error))
          throw new DomainError(
            'CONFLICT',
            `An endpoint labelled "${label}" already exists in this workspace`,
          );
        throw error;
      }
      const id = created[0]?.id;
      if (!id) {
        const workspace = await db.workspace.findUnique({
          where: { id: workspaceId },
          select: { plan: true, endpointCount: true },
        });
        if (!workspace) throw new DomainError('NOT_FOUND', 'No such workspace');
        const limit = limitOf(workspace.plan);
        const used = workspace.endpointCount;
        throw new DomainError(
          'QUOTA_EXCEEDED',
          `This workspace has ${used} of ${limit} web endpoints its ${workspace.plan.toLowerCase()} plan allows: delete one or upgrade to Team for unlimited endpoints`,
          { limit, used, plan: workspace.plan },
        );
      }
      await recordAudit(db, {
        action: 'endpoint.created',
        workspaceId,
        actorId: actor.userId,
        target: label,
        ip: actor.ip,
      });
      return endpointView(await db.endpoint.findUniqueOrThrow({ where: { id } }));
    },

    /**
     * Changes settings (every field checked; a bad one changes nothing) and audits what changed, each
     * field as `[before, after]`. No change, no audit entry.
     */
    async update(
      workspaceId: string,
      id: string,
      input: Partial<EndpointSettings>,
      actor: Actor = { userId: null },
    ): Promise<EndpointView> {
      const current = endpointView(await row(workspaceId, id));
      const settings = resolveSettings(current.settings, input);
      const changes: Record<string, [Prisma.InputJsonValue, Prisma.InputJsonValue]> = {};
      for (const key of Object.keys(settings) as (keyof EndpointSettings)[])
        if (JSON.stringify(current.settings[key]) !== JSON.stringify(settings[key]))
          changes[key] = [current.settings[key], settings[key]];
      if (Object.keys(changes).length === 0) return current;
      const updated = endpointView(await db.endpoint.update({ where: { id }, data: columns(settings) }));
      await recordAudit(db, {
        action: 'endpoint.settings_changed',
        workspaceId,
        actorId: actor.userId,
        target: current.label,
        metadata: { changes },
        ip: actor.ip,
      });
      return updated;
    },

    async remove(workspaceId: string, id: string, actor: Actor): Promise<void> {
      const found = await row(workspaceId, id);
      // The row and the workspace's place for it go in one statement (see `create`).
      const deleted = await db.$executeRaw`
        WITH gone AS (
          DELETE FROM "Endpoint" WHERE id = ${id}::uuid AND "workspaceId" = ${workspaceId}::uuid
          RETURNING "workspaceId"
        )
        UPDATE "Workspace" w SET "endpointCount" = GREATEST(w."endpointCount" - 1, 0)
        FROM gone WHERE w.id = gone."workspaceId"`;
      if (deleted === 0) throw new DomainError('NOT_FOUND', 'No such endpoint in this workspace');
      await recordAudit(db, {
        action: 'endpoint.deleted',
        workspaceId,
        actorId: actor.userId,
        target: found.label,
        ip: actor.ip,
      });
    },

    /** A new bearer token; its value is returned here only, the database keeps its hash. */
    async createToken(workspaceId: string, id: string, actor: Actor, name: string) {
      const endpoint = await row(workspaceId, id);
      const trimmed = name.trim().slice(0, 100) || 'token';
      const { token, prefix, hash } = newEndpointToken();
      const created = await db.endpointToken.create({
        data: { endpointId: id, name: trimmed, prefix, tokenHash: hash, createdById: actor.userId },
      });
      await recordAudit(db, {
        action: 'endpoint.token_created',
        workspaceId,
        actorId: actor.userId,
        target: endpoint.label,
        metadata: { token: trimmed, prefix },
        ip: actor.ip,
      });
      return { token, view: tokenView(created) };
    },

    async listTokens(workspaceId: string, id: string): Promise<EndpointTokenView[]> {
      await row(workspaceId, id);
      const rows = await db.endpointToken.findMany({
        where: { endpointId: id },
        orderBy: { createdAt: 'asc' },
      });
      return rows.map(tokenView);
    },

    async revokeToken(
      workspaceId: string,
      id: string,
      tokenId: string,
      actor: Actor,
    ): Promise<EndpointTokenView> {
      const endpoint = await row(workspaceId, id);
      const found = await db.endpointToken.findFirst({ where: { id: tokenId, endpointId: id } });
      if (!found) throw new DomainError('NOT_FOUND', 'No such token on this endpoint');
      if (found.revokedAt) return tokenView(found);
      const revoked = await db.endpointToken.update({
        where: { id: tokenId },
        data: { revokedAt: new Date() },
      });
      await recordAudit(db, {
        action: 'endpoint.token_revoked',
        workspaceId,
        actorId: actor.userId,
        target: endpoint.label,
        metadata: { token: found.name, prefix: found.prefix },
        ip: actor.ip,
      });
      return tokenView(revoked);
    },

    /** Whether `token` may call `endpointId` (unrevoked and its own); marks it used. */
    async tokenAllows(endpointId: string, token: string): Promise<boolean> {
      const found = await db.endpointToken.findUnique({ where: { tokenHash: hashEndpointToken(token) } });
      if (!found || found.endpointId !== endpointId || found.revokedAt) return false;
      // Recorded at most once a minute per token: a hot endpoint must not write a row per call.
      if (!found.lastUsedAt || Date.now() - found.lastUsedAt.getTime() > 60_000)
        await db.endpointToken.update({ where: { id: found.id }, data: { lastUsedAt: new Date() } });
      return true;
    },
  };
}

export type EndpointStore = ReturnType<typeof createEndpointStore>;
