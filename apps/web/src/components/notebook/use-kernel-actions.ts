'use client';
import { useCallback, useState } from 'react';
import { errorCode, errorMessage } from '../../lib/errors.ts';
import { useTRPCClient } from '../../lib/trpc.ts';

/** Which cells `notebook.run` executes: explicit ids, or everything / above / below a cell. */
export type RunSpec = { cellIds: string[] } | { mode: 'all' } | { mode: 'above' | 'below'; cellId: string };

/** Kernel procedures of the notebook router, called by name so this page works before they ship. */
export type KernelProcedure =
  | 'run'
  | 'interrupt'
  | 'restart'
  | 'shutdownKernel'
  | 'answerInput'
  | 'setResources'
  | 'cancelKernelStart';

interface Mutation {
  mutate(input: unknown): Promise<unknown>;
}

interface Query {
  query(input: unknown): Promise<unknown>;
}

/** `notebook.machines`: each GPU choice (null: none) at the notebook's CPU and memory. */
export interface MachineChoices {
  plan: string;
  cpu: number;
  memoryMiB: number;
  choices: {
    gpu: string | null;
    verdict: 'now' | 'queue' | 'refused';
    reason: string | null;
    pricePerHour: number;
  }[];
  /** The notebook's image (null: Kiln's base image) and the workspace's images. */
  imageId?: string | null;
  images?: { id: string; name: string; state: 'building' | 'ready' | 'failed'; usable: boolean }[];
}

/**
 * True when this server cannot do it at all: the procedure does not exist (NOT_FOUND "No procedure
 * found"), or the server runs without the service behind it (PRECONDITION_FAILED "... is not
 * available on this server", e.g. no kernel gateway configured).
 */
export function isMissingProcedure(error: unknown): boolean {
  const code = errorCode(error);
  if (code === 'NOT_IMPLEMENTED') return true;
  if (code === 'PRECONDITION_FAILED') return /not available on this server/i.test(errorMessage(error));
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
          // Without an execution service every kernel action fails the same way: disable them all.
          const kernel: KernelProcedure[] = ['run', 'interrupt', 'restart', 'shutdownKernel', 'answerInput'];
          setMissing((current) => new Set([...current, ...(kernel.includes(name) ? kernel : [name])]));
          setError(
            errorCode(caught) === 'PRECONDITION_FAILED'
              ? errorMessage(caught)
              : 'Running code is not available on this server yet.',
          );
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
    /** Restart without asking, where the user already chose to (the page wraps `restart` in a question). */
    restartNow: () => call('restart'),
    shutdown: () => call('shutdownKernel'),
    /** Resources for the next kernel start (`notebook.setResources`); a running kernel keeps its own. */
    setResources: (resources: { cpu: number; memoryMiB: number; gpu: string | null }) =>
      call('setResources', resources),
    /** The image of the notebook's next kernel (`image.setForNotebook`; null: Kiln's base image). */
    setImage: async (imageId: string | null): Promise<boolean> => {
      try {
        await client.image.setForNotebook.mutate({ workspaceId, notebookId, imageId });
        setError(null);
        return true;
      } catch (caught) {
        setError(errorMessage(caught));
        return false;
      }
    },
    /** Gives up a kernel start that waits for a machine (`notebook.cancelKernelStart`). */
    cancelStart: () => call('cancelKernelStart'),
    /** The machine picker's choices: what starts now, what would wait and why, and the price per hour. */
    machines: async (): Promise<MachineChoices | null> => {
      const router = (client as unknown as { notebook: Record<string, Query> }).notebook;
      try {
        return ((await router.machines?.query({ workspaceId, notebookId })) as MachineChoices) ?? null;
      } catch {
        return null;
      }
    },
    /** Answers the kernel's pending `input()` (hooked to `notebook.answerInput`). */
    answerInput: (value: string) => call('answerInput', { value }),
  };
}

export type KernelActions = ReturnType<typeof useKernelActions>;
