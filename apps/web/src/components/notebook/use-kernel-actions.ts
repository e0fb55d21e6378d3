'use client';
import { useCallback, useState } from 'react';
import { errorCode, errorMessage } from '../../lib/errors.ts';
import { useTRPCClient } from '../../lib/trpc.ts';

/** Which cells `notebook.run` executes: explicit ids, or everything / above / below a cell. */
export type RunSpec = { cellIds: string[] } | { mode: 'all' } | { mode: 'above' | 'below'; cellId: string };

/** Kernel procedures of the notebook router, called by name so this page works before they ship. */
export type KernelProcedure = 'run' | 'interrupt' | 'restart' | 'shutdown' | 'answerInput' | 'changeMachine';

interface Mutation {
  mutate(input: unknown): Promise<unknown>;
}

/** True when the server has no such procedure (yet): tRPC answers NOT_FOUND "No procedure found". */
export function isMissingProcedure(error: unknown): boolean {
  const code = errorCode(error);
  if (code === 'NOT_IMPLEMENTED') return true;
  return code === 'NOT_FOUND' && /no procedure/i.test(errorMessage(error));
}

/** The notebook's kernel actions; a procedure the server lacks disables its buttons with an explanation. */
export function useKernelActions(workspaceId: string, notebookId: string) {
  const client = useTRPCClient();
  const [missing, setMissing] = useState<ReadonlySet<KernelProcedure>>(new Set());
  const [error, setError] = useState<string | null>(null);

  const call = useCallback(
    async (name: KernelProcedure, input: Record<string, unknown> = {}): Promise<boolean> => {
      const router = (client as unknown as { notebook: Record<string, Mutation> }).notebook;
      try {
        await router[name]?.mutate({ workspaceId, notebookId, ...input });
        setError(null);
        return true;
      } catch (caught) {
        if (isMissingProcedure(caught)) {
          setMissing((current) => new Set(current).add(name));
          setError('Running code is not available on this server yet.');
        } else {
          setError(errorMessage(caught));
        }
        return false;
      }
    },
    [client, workspaceId, notebookId],
  );

  return {
    error,
    dismissError: () => setError(null),
    available: (name: KernelProcedure) => !missing.has(name),
    run: (spec: RunSpec) => call('run', spec),
    interrupt: () => call('interrupt'),
    restart: () => call('restart'),
    shutdown: () => call('shutdown'),
    changeMachine: (machine: Record<string, unknown>) => call('changeMachine', { machine }),
    /** Answers the kernel's pending `input()` (hooked to `notebook.answerInput`). */
    answerInput: (value: string) => call('answerInput', { value }),
  };
}

export type KernelActions = ReturnType<typeof useKernelActions>;
