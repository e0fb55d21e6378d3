import { DomainError } from '@kiln/core';
import { parseImageSpec } from '@kiln/images';
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
  /** Kiln: named volumes to mount at /vol/<name> (the web app resolved and authorised them). */
  volumes: z
    .array(
      z
        .object({
          id: z.uuid(),
          name: z
            .string()
            .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'volume names are lowercase letters, digits and -'),
          target: z.string(),
          readOnly: z.boolean(),
          quotaMiB: z.number().int().min(16),
        })
        .strict(),
    )
    .max(16)
    .optional(),
  /** Kiln: the scheduler's container this kernel runs as; its resources then come from the scheduler. */
  containerId: z.uuid().optional(),
  /** Kiln: the workspace image the kernel runs on (packages over the base image); none: the base image. */
  image: z
    .object({ debian: z.array(z.string()).optional(), python: z.array(z.string()).optional() })
    .optional(),
  /**
   * Kiln: Python the kernel should already have run when it answers (an endpoint version's module, which
   * reads no secrets): restored from a snapshot taken after running it once this node has one.
   */
  module: z
    .object({ code: z.string().max(1024 * 1024) })
    .strict()
    .optional(),
});

export type StartKernelBody = z.infer<typeof startKernelSchema>;

/** The body of POST /api/kernels/:id/hibernate (Kiln), empty or with why the kernel is paused. */
const hibernateSchema = z
  .object({ reason: z.string().trim().min(1, 'reason must not be empty').max(2000).optional() })
  .strict();

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
  const image = body.image ? parseImageSpec(body.image) : undefined;
  return {
    name,
    env: body.env,
    resources,
    containerId: body.containerId,
    volumes: body.volumes,
    ...(image ? { image } : {}),
    ...(body.module ? { module: body.module } : {}),
  };
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
    // Kiln: with `?reason=`, every client of the kernel is told it died and why (a KernelDied error),
    // and asking for it afterwards answers 410 with the reason (e.g. a volume it mounted was deleted).
    .add('DELETE', '/api/kernels/:id', async ({ url, response, caller, params }) => {
      const reason = url.searchParams.get('reason')?.slice(0, 1000);
      await kernels.shutdown(caller.workspaceId, params.id ?? '', reason || undefined);
      sendJson(response, 204);
    })
    // Kiln: with `?execution=<msg_id>`, only that execute_request is interrupted, and only if it is the
    // one running (an endpoint replica queues several calls; a timed-out one's interrupt must not hit
    // the next).
    .add('POST', '/api/kernels/:id/interrupt', async ({ url, response, caller, params }) => {
      const kernel = kernels.get(caller.workspaceId, params.id ?? '');
      if (kernel.isDead)
        throw new DomainError('KERNEL_DEAD', `The kernel is dead: ${kernel.reason ?? 'stopped'}`);
      await kernel.interrupt(url.searchParams.get('execution')?.slice(0, 200) || undefined);
      sendJson(response, 204);
    })
    // Kiln: checkpoints the kernel now (variables kept; any later message wakes it), e.g. when its
    // workspace reaches a hard cap. Idempotent: a sleeping kernel stays asleep. With a `reason`, every
    // client of the kernel is told it is paused and why, whichever process asked.
    .add('POST', '/api/kernels/:id/hibernate', async ({ request, response, caller, params }) => {
      const parsed = hibernateSchema.safeParse(await readJson(request));
      if (!parsed.success) throw validationError(parsed.error.issues);
      const kernel = kernels.get(caller.workspaceId, params.id ?? '');
      if (kernel.isDead)
        throw new DomainError('KERNEL_DEAD', `The kernel is dead: ${kernel.reason ?? 'stopped'}`);
      try {
        await kernel.hibernate(parsed.data.reason);
      } catch (error) {
        throw new DomainError(
          'SANDBOX_FAILED',
          `Hibernation failed: ${error instanceof Error ? error.message : error}`,
        );
      }
      sendJson(response, 200, kernel.model());
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
