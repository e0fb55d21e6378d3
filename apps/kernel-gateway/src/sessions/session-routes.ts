import { z } from 'zod';
import { readJson, sendJson, validationError } from '../http/respond.ts';
import type { Router } from '../http/router.ts';
import type { KernelRegistry } from '../kernels/kernel-registry.ts';
import { resourcesSchema, startKernelSchema, startRequest } from '../kernels/kernel-routes.ts';
import type { ResourceRequest } from '../sandbox/types.ts';
import type { SessionInput, SessionStore } from './session-store.ts';

const sessionSchema = z.object({
  path: z.string().optional(),
  name: z.string().nullish(),
  type: z.string().optional(),
  kernel: z
    .object({
      id: z.string().nullish(),
      name: z.string().nullish(),
      env: startKernelSchema.shape.env,
      resources: resourcesSchema.optional(),
    })
    .nullish(),
});

function parse(body: unknown): SessionInput {
  const parsed = sessionSchema.safeParse(body);
  if (!parsed.success) throw validationError(parsed.error.issues);
  const { kernel, name, ...rest } = parsed.data;
  return {
    ...rest,
    ...(name != null ? { name } : {}),
    ...(kernel
      ? {
          kernel: {
            id: kernel.id ?? undefined,
            name: kernel.name ?? undefined,
            env: kernel.env,
            resources: kernel.resources,
          },
        }
      : {}),
  } as SessionInput;
}

/** Session REST routes with Jupyter Server's status codes. */
export function addSessionRoutes(
  router: Router,
  sessions: SessionStore,
  kernels: KernelRegistry,
  defaults: ResourceRequest,
): void {
  const starter = (workspaceId: string) => (kernel: SessionInput['kernel']) =>
    kernels.start(
      workspaceId,
      startRequest({ name: kernel?.name, env: kernel?.env, resources: kernel?.resources }, defaults),
    );
  router
    .add('GET', '/api/sessions', ({ response, caller }) =>
      sendJson(response, 200, sessions.list(caller.workspaceId)),
    )
    .add('POST', '/api/sessions', async ({ request, response, caller }) => {
      const model = await sessions.create(
        caller.workspaceId,
        parse(await readJson(request)),
        starter(caller.workspaceId),
      );
      sendJson(response, 201, model, { location: `/api/sessions/${model.id}` });
    })
    .add('GET', '/api/sessions/:id', ({ response, caller, params }) =>
      sendJson(response, 200, sessions.model(sessions.get(caller.workspaceId, params.id ?? ''))),
    )
    .add('PATCH', '/api/sessions/:id', async ({ request, response, caller, params }) => {
      const input = parse(await readJson(request));
      sendJson(
        response,
        200,
        await sessions.update(caller.workspaceId, params.id ?? '', input, starter(caller.workspaceId)),
      );
    })
    .add('DELETE', '/api/sessions/:id', async ({ response, caller, params }) => {
      await sessions.delete(caller.workspaceId, params.id ?? '');
      sendJson(response, 204);
    });
}
