import { z } from 'zod';
import { readJson, sendJson, validationError } from '../http/respond.ts';
import type { Router } from '../http/router.ts';
import type { TerminalRegistry } from './terminal-registry.ts';

const createSchema = z.object({
  kernel_id: z.string().optional(),
  cols: z.number().int().min(1).max(1000).optional(),
  rows: z.number().int().min(1).max(1000).optional(),
  name: z.string().optional(),
  cwd: z.string().optional(),
});

/** Terminal REST routes (Jupyter Server's shapes, plus Kiln's `kernel_id` choosing the sandbox). */
export function addTerminalRoutes(router: Router, terminals: TerminalRegistry): void {
  router
    .add('GET', '/api/terminals', ({ response, caller }) =>
      sendJson(
        response,
        200,
        terminals.list(caller.workspaceId).map((terminal) => terminals.model(terminal)),
      ),
    )
    .add('POST', '/api/terminals', async ({ request, response, caller }) => {
      const parsed = createSchema.safeParse(await readJson(request));
      if (!parsed.success) throw validationError(parsed.error.issues);
      const terminal = terminals.create(caller.workspaceId, {
        kernelId: parsed.data.kernel_id,
        cols: parsed.data.cols ?? 80,
        rows: parsed.data.rows ?? 24,
      });
      sendJson(response, 200, terminals.model(terminal));
    })
    .add('GET', '/api/terminals/:name', ({ response, caller, params }) =>
      sendJson(response, 200, terminals.model(terminals.get(caller.workspaceId, params.name ?? ''))),
    )
    .add('DELETE', '/api/terminals/:name', ({ response, caller, params }) => {
      terminals.delete(caller.workspaceId, params.name ?? '');
      sendJson(response, 204);
    });
}
