import { DomainError } from '@kiln/core';
import { type ImageSpec, parseImageSpec } from '@kiln/images';
import { z } from 'zod';
import { readJson, sendJson } from '../http/respond.ts';
import type { Router } from '../http/router.ts';
import type { ImageBuilder } from './image-builder.ts';

const pruneBody = z.object({ keep: z.array(z.string().regex(/^[0-9a-f]{16}$/)).max(100_000) });

/**
 * Kiln's image builds: `POST /kiln/images/builds` with `{debian, python}` starts one (or finds it built),
 * `GET /kiln/images/builds/:key?offset=N` follows its state and log, `POST /kiln/images/prune` (admin)
 * deletes builds nothing names or runs on. Images are content-addressed and
 * hold only packages from the operator's sources, so any authenticated caller may build and follow them.
 */
export function addImageRoutes(
  router: Router,
  images: ImageBuilder | undefined,
  inUse: () => ImageSpec[] = () => [],
): void {
  const builder = () => {
    if (!images) throw new DomainError('NOT_FOUND', 'This gateway does not build images');
    return images;
  };
  router
    .add('POST', '/kiln/images/builds', async ({ request, response }) => {
      const body = (await readJson(request)) as { debian?: unknown; python?: unknown } | null;
      if (!body || typeof body !== 'object')
        throw new DomainError('VALIDATION_FAILED', 'Send {"debian": [...], "python": [...]}');
      sendJson(response, 202, await builder().build(parseImageSpec(body)));
    })
    // The web app, with the gateway's own token, after an image was deleted or replaced: `keep` lists
    // the builds workspace images still name; the rest go unless a kernel here runs on them.
    .add('POST', '/kiln/images/prune', async ({ request, response, caller }) => {
      if (!caller.admin) throw new DomainError('FORBIDDEN', "Pruning images needs the gateway's own token");
      const parsed = pruneBody.safeParse(await readJson(request));
      if (!parsed.success)
        throw new DomainError('VALIDATION_FAILED', 'Send {"keep": [image keys of 16 hex digits]}');
      sendJson(response, 200, await builder().prune(parsed.data.keep, inUse()));
    })
    .add('GET', '/kiln/images/builds/:key', async ({ response, params, url }) => {
      const key = params.key ?? '';
      if (!/^[0-9a-f]{16}$/.test(key)) throw new DomainError('NOT_FOUND', `No build ${key.slice(0, 40)}`);
      const offset = Number(url.searchParams.get('offset') ?? 0);
      sendJson(
        response,
        200,
        await builder().get(key, Number.isSafeInteger(offset) && offset > 0 ? offset : 0),
      );
    });
}
