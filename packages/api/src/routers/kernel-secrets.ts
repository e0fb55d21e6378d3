import { createMasker } from '@kiln/secrets/masking';
import type { NotebookExecution, NotebookServices } from '../services.ts';

/**
 * The environment and output masking a notebook's kernel gets from its secrets. Values are
 * decrypted on every run (the execution service only uses them when it starts a kernel), but
 * audited as used only when no kernel is live, i.e. when this run is the one that starts it.
 */
export async function kernelSecrets(
  services: Pick<NotebookServices, 'secrets'>,
  execution: Pick<NotebookExecution, 'state'>,
  request: { workspaceId: string; notebookId: string; userId: string | null; ip: string },
): Promise<{ env?: Record<string, string>; redact?: (text: string) => string }> {
  if (!services.secrets) return {};
  const live = Boolean(execution.state(request.notebookId)?.kernel.kernelId);
  const resolved = await services.secrets.resolveForNotebook(
    request.workspaceId,
    { userId: request.userId, ip: request.ip },
    request.notebookId,
    'kernel start',
    { audit: !live },
  );
  if (resolved.secrets.length === 0) return {};
  return { env: resolved.env, redact: createMasker(Object.values(resolved.env)) };
}
