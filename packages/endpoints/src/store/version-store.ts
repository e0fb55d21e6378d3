import { DomainError } from '@kiln/core';
import { type Db, type EndpointVersionModel, Prisma } from '@kiln/db';
import type { CapturedFunction } from '../capture/dependency-capture.ts';
import { type DiffLine, lineDiff } from './line-diff.ts';
import { BASE_SANDBOX, sandboxColumns, sandboxOf, type VersionSandbox } from './version-sandbox.ts';

/** Where a version's code came from: a notebook cell, or a function file (the function editors). */
export type VersionOrigin =
  | { kind: 'notebook'; notebookId: string; cellId?: string | null }
  | { kind: 'function_file'; fileId: string };

export interface NewVersion {
  functionName: string;
  /** The module a replica imports (capture's `source`, or a function file's text). */
  source: string;
  origin: VersionOrigin;
  dependencies: Pick<CapturedFunction, 'imports' | 'definitions' | 'missing'>;
  parameters: CapturedFunction['parameters'];
  /** Keyword arguments of the smoke test. */
  sampleInput: Record<string, unknown>;
  /** Image, secrets and volumes of its replicas (checked by the caller); absent: the base image alone. */
  sandbox?: VersionSandbox;
}

export interface VersionView {
  id: string;
  endpointId: string;
  number: number;
  functionName: string;
  source: string;
  origin: VersionOrigin;
  dependencies: NewVersion['dependencies'];
  parameters: NewVersion['parameters'];
  sampleInput: Record<string, unknown>;
  sandbox: VersionSandbox;
  smoke: { status: 'pending' | 'passed' | 'failed'; result: unknown; error: string | null };
  live: boolean;
  createdAt: Date;
}

const MAX_SOURCE_BYTES = 1024 * 1024;

function originOf(row: EndpointVersionModel): VersionOrigin {
  return row.originKind === 'function_file'
    ? { kind: 'function_file', fileId: row.originId ?? '' }
    : { kind: 'notebook', notebookId: row.originId ?? '', cellId: row.originCellId };
}

export function versionView(row: EndpointVersionModel, liveVersionId: string | null): VersionView {
  return {
    id: row.id,
    endpointId: row.endpointId,
    number: row.number,
    functionName: row.functionName,
    source: row.source,
    origin: originOf(row),
    dependencies: row.dependencies as unknown as NewVersion['dependencies'],
    parameters: row.parameters as unknown as NewVersion['parameters'],
    sampleInput: row.sampleInput as Record<string, unknown>,
    sandbox: sandboxOf(row),
    smoke: {
      status: row.smokeStatus as VersionView['smoke']['status'],
      result: row.smokeResult ?? null,
      error: row.smokeError,
    },
    live: row.id === liveVersionId,
    createdAt: row.createdAt,
  };
}

/** Immutable versions of endpoints: created pending, settled by their smoke test, rolled back to. */
export function createVersionStore(options: { db: Db }) {
  const { db } = options;

  async function endpointOf(workspaceId: string, endpointId: string) {
    const endpoint = await db.endpoint.findFirst({ where: { id: endpointId, workspaceId } });
    if (!endpoint) throw new DomainError('NOT_FOUND', 'No such endpoint in this workspace');
    return endpoint;
  }

  async function versionOf(workspaceId: string, endpointId: string, versionId: string) {
    const endpoint = await endpointOf(workspaceId, endpointId);
    const version = await db.endpointVersion.findFirst({ where: { id: versionId, endpointId } });
    if (!version) throw new DomainError('NOT_FOUND', 'No such version of this endpoint');
    return { endpoint, version };
  }

  return {
    async add(workspaceId: string, endpointId: string, createdById: string | null, input: NewVersion) {
      await endpointOf(workspaceId, endpointId);
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(input.functionName))
        throw new DomainError(
          'VALIDATION_FAILED',
          `${JSON.stringify(input.functionName)} is not a Python name`,
        );
      if (Buffer.byteLength(input.source) > MAX_SOURCE_BYTES)
        throw new DomainError('PAYLOAD_TOO_LARGE', 'An endpoint module is at most 1 MiB of source');
      const originId = input.origin.kind === 'notebook' ? input.origin.notebookId : input.origin.fileId;
      for (let attempt = 0; ; attempt++) {
        const last = await db.endpointVersion.findFirst({
          where: { endpointId },
          orderBy: { number: 'desc' },
          select: { number: true },
        });
        try {
          const row = await db.endpointVersion.create({
            data: {
              endpointId,
              number: (last?.number ?? 0) + 1,
              functionName: input.functionName,
              source: input.source,
              originKind: input.origin.kind,
              originId,
              originCellId: input.origin.kind === 'notebook' ? (input.origin.cellId ?? null) : null,
              dependencies: input.dependencies as unknown as Prisma.InputJsonValue,
              parameters: input.parameters as unknown as Prisma.InputJsonValue,
              sampleInput: input.sampleInput as Prisma.InputJsonValue,
              ...sandboxColumns(input.sandbox ?? BASE_SANDBOX),
              createdById,
            },
          });
          return versionView(row, null);
        } catch (error) {
          // Two deploys at once took the same number: take the next one.
          const unique = error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002';
          if (!unique || attempt >= 5) throw error;
        }
      }
    },

    /** Records the smoke test; a passing version goes live, a failing one leaves the live one as it is. */
    async settle(
      versionId: string,
      outcome: { passed: true; result: unknown } | { passed: false; error: string },
    ) {
      const row = await db.endpointVersion.update({
        where: { id: versionId },
        data: outcome.passed
          ? { smokeStatus: 'passed', smokeResult: outcome.result as Prisma.InputJsonValue, smokeError: null }
          : { smokeStatus: 'failed', smokeError: outcome.error.slice(0, 20_000) },
      });
      let live: string | null = null;
      if (outcome.passed) {
        const endpoint = await db.endpoint.update({
          where: { id: row.endpointId },
          data: { liveVersionId: row.id },
        });
        live = endpoint.liveVersionId;
      } else {
        live = (await db.endpoint.findUniqueOrThrow({ where: { id: row.endpointId } })).liveVersionId;
      }
      return versionView(row, live);
    },

    async list(workspaceId: string, endpointId: string): Promise<VersionView[]> {
      const endpoint = await endpointOf(workspaceId, endpointId);
      const rows = await db.endpointVersion.findMany({ where: { endpointId }, orderBy: { number: 'desc' } });
      return rows.map((row) => versionView(row, endpoint.liveVersionId));
    },

    async get(workspaceId: string, endpointId: string, versionId: string): Promise<VersionView> {
      const { endpoint, version } = await versionOf(workspaceId, endpointId, versionId);
      return versionView(version, endpoint.liveVersionId);
    },

    /** Makes an earlier version live again; only one that passed its smoke test may serve. */
    async rollback(workspaceId: string, endpointId: string, versionId: string): Promise<VersionView> {
      const { version } = await versionOf(workspaceId, endpointId, versionId);
      if (version.smokeStatus !== 'passed')
        throw new DomainError(
          'CONFLICT',
          `Version ${version.number} did not pass its smoke test, so it cannot serve`,
        );
      await db.endpoint.update({ where: { id: endpointId }, data: { liveVersionId: version.id } });
      return versionView(version, version.id);
    },

    /** The line diff of two versions' modules (and whether the function or sample changed). */
    async diff(
      workspaceId: string,
      endpointId: string,
      fromId: string,
      toId: string,
    ): Promise<{ from: number; to: number; functionChanged: boolean; lines: DiffLine[] }> {
      const from = (await versionOf(workspaceId, endpointId, fromId)).version;
      const to = (await versionOf(workspaceId, endpointId, toId)).version;
      return {
        from: from.number,
        to: to.number,
        functionChanged: from.functionName !== to.functionName,
        lines: lineDiff(from.source, to.source),
      };
    },
  };
}

export type VersionStore = ReturnType<typeof createVersionStore>;
