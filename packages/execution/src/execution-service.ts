import { randomUUID } from 'node:crypto';
import { DomainError } from '@kiln/core';
import { selectCells } from './cell-selection.ts';
import { completeCode, inspectCode } from './kernel-assist.ts';
import { NotebookSession } from './notebook-session.ts';
import { createMemoryOverflowStore, overflowNote } from './overflow-store.ts';
import {
  DEFAULT_LIMITS,
  type ExecutionService,
  type ExecutionServiceOptions,
  type KernelRecord,
  type ResumeResult,
  type RunRequest,
  type RunTicket,
} from './types.ts';

/**
 * Server-side execution: one queue and one kernel per notebook, outputs written into the
 * notebook's persisted Y.Doc, so runs go on (and are recorded) with no browser connected.
 */
export function createExecutionService(options: ExecutionServiceOptions): ExecutionService {
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const clock = options.clock ?? Date.now;
  const overflow =
    options.overflowStore ??
    createMemoryOverflowStore({ maxBytes: limits.overflowBytes, maxEntryBytes: limits.overflowEntryBytes });
  const onError =
    options.onError ??
    (({ notebookId, error, stage }) =>
      console.error(`[execution] ${stage} failed for ${notebookId}:`, error));
  const sessions = new Map<string, Promise<NotebookSession>>();
  const opened = new Map<string, NotebookSession>();
  let disposed = false;

  function open(notebookId: string, workspaceId: string, resume?: KernelRecord): Promise<NotebookSession> {
    let session = sessions.get(notebookId);
    if (!session) {
      session = options.openDocument(notebookId).then((connection) => {
        const created = new NotebookSession({
          notebookId,
          workspaceId,
          connection,
          gateway: options.gateway(workspaceId, notebookId),
          kernelName: options.kernelName,
          outputLimits: limits.output,
          maxQueuedCells: limits.maxQueuedCells,
          maxRoutes: limits.maxRoutes,
          overflow,
          truncationNote: options.truncationNote ?? overflowNote,
          clock,
          onError: (error, stage) => onError({ notebookId, error, stage }),
          kernelStore: options.kernelStore,
          resume,
          reattachMs: options.reattachMs,
          runCost: options.runCost,
        });
        opened.set(notebookId, created);
        return created;
      });
      sessions.set(notebookId, session);
      session.catch(() => sessions.delete(notebookId));
    }
    return session;
  }

  /** Stops taking requests and releases every session with `release` (kernels shut down or left running). */
  async function releaseAll(
    stage: string,
    release: (session: NotebookSession) => Promise<void>,
  ): Promise<void> {
    disposed = true;
    const all = [...sessions.values()];
    sessions.clear();
    opened.clear();
    await Promise.all(
      all.map(async (pending) => {
        const session = await pending.catch(() => undefined);
        if (!session) return;
        await release(session).catch((error: unknown) =>
          onError({ notebookId: session.notebookId, error, stage }),
        );
      }),
    );
  }

  /** Re-attaches to each recorded kernel this process does not drive yet (see `resume()`). */
  function resumeAll(records: KernelRecord[]): Promise<ResumeResult[]> {
    return Promise.all(
      records.map(async (record): Promise<ResumeResult> => {
        const { notebookId } = record;
        if (sessions.has(notebookId)) return { notebookId, outcome: 'attached', reason: null };
        try {
          const away = (await options.kernelAway?.(record.kernelId).catch(() => null)) ?? null;
          const result = await (await open(notebookId, record.workspaceId, record)).resume(away);
          if (result.outcome === 'away') return { notebookId, ...result, kernelId: record.kernelId };
          return { notebookId, ...result };
        } catch (error) {
          onError({ notebookId, error, stage: 'resume' });
          return { notebookId, outcome: 'unreachable', reason: String(error) };
        }
      }),
    );
  }

  async function existing(notebookId: string): Promise<NotebookSession | undefined> {
    return sessions.get(notebookId)?.catch(() => undefined);
  }

  return {
    async run(request: RunRequest): Promise<RunTicket> {
      if (disposed) throw new DomainError('CONFLICT', 'The execution service is shutting down');
      const session = await open(request.notebookId, request.workspaceId);
      if (disposed) {
        await session.close();
        throw new DomainError('CONFLICT', 'The execution service is shutting down');
      }
      if (session.workspaceId !== request.workspaceId) {
        throw new DomainError('FORBIDDEN', 'This notebook belongs to another workspace');
      }
      const requestId = randomUUID();
      const cellIds = session.enqueue(
        selectCells(session.document, request.target),
        requestId,
        request.user,
        {
          resources: request.resources,
          env: request.env,
          volumes: request.volumes,
          image: request.image,
          redact: request.redact,
          requestedById: request.user.userId,
        },
      );
      await session.flushed();
      return { requestId, cellIds };
    },

    async whenIdle(notebookId) {
      const session = await existing(notebookId);
      await session?.whenIdle();
      await session?.flushed();
    },

    async interrupt(notebookId) {
      await (await existing(notebookId))?.interrupt();
    },

    async restart(notebookId) {
      await (await existing(notebookId))?.restart();
    },

    async shutdown(notebookId) {
      const session = await existing(notebookId);
      if (!session) return;
      sessions.delete(notebookId);
      opened.delete(notebookId);
      await session.close();
    },

    async cancelStart(notebookId) {
      const session = await existing(notebookId);
      if (!session?.cancelStart()) return false;
      await session.flushed();
      return true;
    },

    async pause(kernelId, reason) {
      for (const session of opened.values()) {
        if (await session.pause(kernelId, reason)) return true;
      }
      return false;
    },

    kernelLost(notebookId, kernelId, reason) {
      opened.get(notebookId)?.schedulerLost(kernelId, reason);
    },

    kernelAway(notebookId, kernelId, reason) {
      return opened.get(notebookId)?.schedulerAway(kernelId, reason) ?? false;
    },

    async kernelBack(notebookId, kernelId) {
      return (await opened.get(notebookId)?.schedulerBack(kernelId)) ?? false;
    },

    async complete(notebookId, code, cursorPos) {
      return completeCode(await existing(notebookId), code, cursorPos, limits.assistTimeoutMs);
    },

    async inspect(notebookId, code, cursorPos, detailLevel) {
      return inspectCode(await existing(notebookId), code, cursorPos, detailLevel, limits.assistTimeoutMs);
    },

    async answerInput(notebookId, value) {
      const session = await existing(notebookId);
      if (!session) throw new DomainError('CONFLICT', 'No cell of this notebook is waiting for input');
      session.answerInput(value);
      await session.flushed();
    },

    state(notebookId) {
      return opened.get(notebookId)?.view() ?? null;
    },

    overflow,

    resume: async () => resumeAll((await options.kernelStore?.list()) ?? []),

    takeOver: async () =>
      disposed || !options.kernelStore?.claim ? [] : resumeAll(await options.kernelStore.claim()),

    detach: () => releaseAll('detach', (session) => session.detach()),

    dispose: () => releaseAll('dispose', (session) => session.close()),
  };
}
