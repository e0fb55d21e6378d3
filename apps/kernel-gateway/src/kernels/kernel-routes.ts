import { DomainError } from '@kiln/core';
import { z } from 'zod';
import { readJson, sendJson, validationError } from '../http/respond.ts';
import type { Router } from '../http/router.ts';
import type { ResourceRequest } from '../sandbox/types.ts';
import type { KernelRegistry } from './kernel-registry.ts';
import { DEFAULT_KERNEL_NAME, kernelSpecFile, kernelSpecList, kernelSpecs } from './kernelspecs.ts';

const gpuName = z.string().min(1).max(64);

/** Kiln's `resources` extension of POST /api/kernels. */
export const resourcesSchema = z
  .object({
    cpu: z.number().positive().max(64).optional(),
    memoryMiB: z
      .number()
      .int()
      .min(128)
      .max(1024 * 1024)
      .optional(),
    gpu: z.union([gpuName, z.array(gpuName).min(1).max(8), z.null()]).optional(),
  })
  .strict();

/** The body of POST /api/kernels. */
export const startKernelSchema = z.object({
  name: z.string().optional(),
  path: z.string().optional(),
  env: z
    .record(
      z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'env names are letters, digits and _'),
      z.string().max(32768),
    )
    .optional(),
  resources: resourcesSchema.optional(),
  /** Kiln: the scheduler's container this kernel runs as; its resources then come from the scheduler. */
  containerId: z.uuid().optional(),
});

export type StartKernelBody = z.infer<typeof startKernelSchema>;

/** Resolves the kernel name and resources of a start request, rejecting unknown kernel specs. */
export function startRequest(body: StartKernelBody, defaults: ResourceRequest) {
  const name = body.name || DEFAULT_KERNEL_NAME;
  if (!kernelSpecFile(name)) {
    throw new DomainError('NOT_FOUND', `No such kernel spec: ${name}; available: ${DEFAULT_KERNEL_NAME}`);
  }
  const resources: ResourceRequest = {
    cpu: body.resources?.cpu ?? defaults.cpu,
    memoryMiB: body.resources?.memoryMiB ?? defaults.memoryMiB,
    gpu: body.resources?.gpu ?? defaults.gpu ?? null,
  };
  return { name, env: body.env, resources, containerId: body.containerId };
}

/** Kernel and kernelspec REST routes with Jupyter Server's status codes. */
export function addKernelRoutes(router: Router, kernels: KernelRegistry, defaults: ResourceRequest): void {
  router
    .add('GET', '/api/kernelspecs', ({ response }) => sendJson(response, 200, kernelSpecList()))
    .add('GET', '/api/kernelspecs/:name', ({ response, params }) => {
      const spec = kernelSpecs()[params.name as typeof DEFAULT_KERNEL_NAME];
      if (!spec) throw new DomainError('NOT_FOUND', `No such kernel spec: ${params.name}`);
      sendJson(response, 200, spec);
    })
    .add('GET', '/kernelspecs/:name/:file', ({ response, params }) => {
      const spec = kernelSpecFile(params.name ?? '');
      if (!spec || params.file !== 'kernel.json') {
        throw new DomainError('NOT_FOUND', `No such kernel spec resource: ${params.name}/${params.file}`);
      }
      sendJson(response, 200, spec);
    })
    .add('GET', '/api/kernels', ({ response, caller }) =>
      sendJson(
        response,
        200,
        kernels.list(caller.workspaceId).map((kernel) => kernel.model()),
      ),
    )
    .add('POST', '/api/kernels', async ({ request, response, caller }) => {
      const parsed = startKernelSchema.safeParse(await readJson(request));
      if (!parsed.success) throw validationError(parsed.error.issues);
      const kernel = await kernels.start(caller.workspaceId, startRequest(parsed.data, defaults));
      sendJson(response, 201, kernel.model(), { location: `/api/kernels/${kernel.id}` });
    })
    .add('GET', '/api/kernels/:id', ({ response, caller, params }) =>
      sendJson(response, 200, kernels.get(caller.workspaceId, params.id ?? '').model()),
    )
    .add('DELETE', '/api/kernels/:id', async ({ response, caller, params }) => {
      await kernels.shutdown(caller.workspaceId, params.id ?? '');
      sendJson(response, 204);
    })
    .add('POST', '/api/kernels/:id/interrupt', async ({ response, caller, params }) => {
      const kernel = kernels.get(caller.workspaceId, params.id ?? '');
      if (kernel.isDead)
        throw new DomainError('KERNEL_DEAD', `The kernel is dead: ${kernel.reason ?? 'stopped'}`);
      await kernel.interrupt();
      sendJson(response, 204);
    })
    .add('POST', '/api/kernels/:id/restart', async ({ response, caller, params }) => {
      const kernel = kernels.get(caller.workspaceId, params.id ?? '');
      try {
        await kernel.restart();
      } catch (error) {
        throw new DomainError(
          'SANDBOX_FAILED',
          `Restart failed: ${error instanceof Error ? error.message : error}`,
        );
      }
      sendJson(response, 200, kernel.model());
    });
}
