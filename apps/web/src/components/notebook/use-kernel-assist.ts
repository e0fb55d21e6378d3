'use client';
import { useParams } from 'next/navigation';
import { useMemo } from 'react';
import { hasRole } from '../../lib/roles.ts';
import { useTRPCClient } from '../../lib/trpc.ts';
import { useWorkspace } from '../workspace/workspace-context.tsx';
import type { KernelAssist } from './kernel-assist-providers.ts';
import { isMissingProcedure } from './use-kernel-actions.ts';

/**
 * Completion and docs from the kernel of the notebook on this page, or null for people who cannot
 * run code (asking the kernel evaluates code in it, so it needs the run right).
 */
export function useKernelAssist(): KernelAssist | null {
  const client = useTRPCClient();
  const { workspace } = useWorkspace();
  const { notebookId } = useParams<{ notebookId?: string }>();
  const canRun = hasRole(workspace.role, 'EDITOR');
  const workspaceId = workspace.id;

  return useMemo(() => {
    if (!canRun || !notebookId) return null;
    // A server without an execution service answers every request the same way: stop asking.
    let unavailable = false;
    const guard = async <T>(call: () => Promise<T>): Promise<T> => {
      if (unavailable) throw new Error('Code completion is not available on this server');
      try {
        return await call();
      } catch (error) {
        if (isMissingProcedure(error)) unavailable = true;
        throw error;
      }
    };
    return {
      complete: (code, cursorPos, signal) =>
        guard(() =>
          client.notebook.complete.mutate({ workspaceId, notebookId, code, cursorPos }, { signal }),
        ),
      inspect: (code, cursorPos, signal) =>
        guard(() =>
          client.notebook.inspect.mutate(
            { workspaceId, notebookId, code, cursorPos, detailLevel: 0 },
            { signal },
          ),
        ),
    };
  }, [client, workspaceId, notebookId, canRun]);
}
