import { recordAudit } from '@kiln/accounts';
import { DomainError } from '@kiln/core';
import type { Db } from '@kiln/db';
import type { ImageBuildView } from '@kiln/kernel-protocol/client';
import { type ImageSpec, parseImageSpec } from './image-spec.ts';
import { type AuditedArgs, auditedChange, type ImageActor, pruneUnnamedBuilds } from './image-upkeep.ts';

/** The gateway calls a build needs (`GatewayClient` from @kiln/kernel-protocol/client has them). */
export interface ImageBuildGateway {
  buildImage(spec: ImageSpec): Promise<ImageBuildView>;
  imageBuild(key: string, offset?: number): Promise<ImageBuildView>;
}

export interface ImageStoreOptions {
  db: Db;
  /**
   * The gateway that builds and shows builds, called for the workspace that asks (for its scoped token);
   * null or absent: builds fail saying none is configured.
   */
  gateway?: (workspaceId: string) => Promise<ImageBuildGateway | null>;
  /**
   * Deletes built images on every node except the builds in `keep` (and those kernels run on); called
   * after an image is deleted or a new build replaces one. Absent: nothing is deleted.
   */
  prune?: (keep: string[]) => Promise<void>;
  /** Where a failed prune is reported (it never fails the change that asked for it). */
  onError?: (error: unknown) => void;
}

export type { ImageActor };

/** What a page shows of an image. */
export interface ImageSummary {
  id: string;
  name: string;
  debian: string[];
  python: string[];
  state: 'building' | 'ready' | 'failed';
  error: string | null;
  /** True when kernels get an image: the current build or, after a failed edit, the previous one. */
  usable: boolean;
  /** What kernels get when it differs from the current definition (a failed edit keeps the old build). */
  built: ImageSpec | null;
  builtAt: Date | null;
  sizeBytes: number | null;
  updatedAt: Date;
}

export const MAX_IMAGES_PER_WORKSPACE = 50;
const MAX_SAVED_LOG = 64 * 1024;
/** An offset past any log: asks a build for its state without its output. */
const MAX_OFFSET = 2 ** 30;
const NAME = /^[A-Za-z0-9][A-Za-z0-9 ._-]{0,62}$/;

type Row = NonNullable<Awaited<ReturnType<Db['workspaceImage']['findFirst']>>>;

function summary(row: Row): ImageSummary {
  const usable = row.builtKey !== null;
  const built = { debian: row.builtDebian, python: row.builtPython };
  const same = built.debian.join() === row.debian.join() && built.python.join() === row.python.join();
  return {
    id: row.id,
    name: row.name,
    debian: row.debian,
    python: row.python,
    state: row.buildState as ImageSummary['state'],
    error: row.buildError,
    usable,
    built: usable && !same ? built : null,
    builtAt: row.builtAt,
    sizeBytes: row.sizeBytes === null ? null : Number(row.sizeBytes),
    updatedAt: row.updatedAt,
  };
}

function checkName(name: string): string {
  const trimmed = name.trim();
  if (!NAME.test(trimmed))
    throw new DomainError(
      'VALIDATION_FAILED',
      'An image name is 1-63 letters, digits, spaces, ".", "_" or "-", starting with a letter or digit',
      { field: 'name' },
    );
  return trimmed;
}

const notFound = () => new DomainError('NOT_FOUND', 'Image not found');

/** Keeps the last `MAX_SAVED_LOG` characters of a finished build's log. */
function savedLog(log: string): string {
  return log.length <= MAX_SAVED_LOG ? log : `[...]\n${log.slice(-MAX_SAVED_LOG)}`;
}

/** Workspace images: definitions in Postgres, builds on a kernel gateway, followed by key. */
export function createImageStore(options: ImageStoreOptions) {
  const { db } = options;

  async function find(workspaceId: string, imageId: string): Promise<Row> {
    const row = await db.workspaceImage.findFirst({ where: { id: imageId, workspaceId } });
    if (!row) throw notFound();
    return row;
  }

  /** Asks the gateway to build the row's spec and records the build's key (or why it could not start). */
  async function startBuild(row: Row): Promise<Row> {
    const spec = { debian: row.debian, python: row.python };
    let update: {
      buildKey: string | null;
      buildState: string;
      buildError: string | null;
      buildLog: string | null;
    };
    try {
      const gateway = await options.gateway?.(row.workspaceId);
      if (!gateway) throw new Error('no kernel gateway on this server builds images');
      const view = await gateway.buildImage(spec);
      update = { buildKey: view.key, buildState: 'building', buildError: null, buildLog: null };
      if (view.state === 'ready') return finish(row, view.key, view, '');
      if (view.state === 'failed') return finish(row, view.key, view, view.log);
    } catch (error) {
      update = {
        buildKey: null,
        buildState: 'failed',
        buildError: `The build could not start: ${error instanceof Error ? error.message : String(error)}`,
        buildLog: null,
      };
    }
    return db.workspaceImage.update({ where: { id: row.id }, data: update });
  }

  /**
   * Stores a finished build; a ready one becomes what kernels get, a failed one leaves that alone. Each
   * outcome is audited once; a ready build that replaces another lets the old one be deleted.
   */
  async function finish(row: Row, key: string, view: ImageBuildView, log: string): Promise<Row> {
    const ready = view.state === 'ready';
    const result = await db.$transaction(async (tx) => {
      // Only the build still asked for may finish the row (an edit may have started another), and
      // only once (two pages following one build both see it end).
      const updated = await tx.workspaceImage.updateMany({
        where: { id: row.id, buildKey: row.buildKey, NOT: { buildKey: key, buildState: view.state } },
        data: {
          buildKey: key,
          buildState: view.state,
          buildError: ready ? null : (view.error ?? 'The build failed'),
          buildLog: savedLog(log),
          ...(ready
            ? {
                builtDebian: row.debian,
                builtPython: row.python,
                builtKey: key,
                builtAt: view.finishedAt ? new Date(view.finishedAt) : new Date(),
                sizeBytes: view.sizeBytes === undefined ? null : BigInt(view.sizeBytes),
              }
            : {}),
        },
      });
      if (updated.count === 1)
        await recordAudit(tx, {
          action: 'image.built',
          workspaceId: row.workspaceId,
          target: row.name,
          metadata: {
            imageId: row.id,
            key,
            state: view.state,
            ...(ready ? {} : { error: view.error ?? 'The build failed' }),
          },
        });
      return updated;
    });
    if (result.count === 0) return find(row.workspaceId, row.id);
    if (ready && row.builtKey && row.builtKey !== key) await prune();
    return db.workspaceImage.findUniqueOrThrow({ where: { id: row.id } });
  }

  const prune = () => pruneUnnamedBuilds(db, options.prune, options.onError);
  const audited = <T>(...args: AuditedArgs<T>) => auditedChange(db, ...args);

  /**
   * The current build's state and its log from `offset` (ask again with `next` while `building`);
   * a finished build is stored, so its log stays readable after the gateway forgets it.
   */
  async function follow(
    workspaceId: string,
    imageId: string,
    offset: number,
  ): Promise<{ image: ImageSummary; log: string; next: number }> {
    let row = await find(workspaceId, imageId);
    if (row.buildState !== 'building' || !row.buildKey) {
      const log = row.buildLog ?? '';
      return { image: summary(row), log: log.slice(Math.min(offset, log.length)), next: log.length };
    }
    const gateway = await options.gateway?.(workspaceId);
    let view: ImageBuildView;
    try {
      if (!gateway) throw new Error('no kernel gateway on this server builds images');
      view = await gateway.imageBuild(row.buildKey, offset);
    } catch (error) {
      // A gateway that restarted forgets builds in progress (404): say so instead of waiting forever.
      // Other errors (a slow or unreachable gateway) leave the build as it was; the next poll asks again.
      if (gateway && (error as { status?: unknown }).status !== 404)
        return { image: summary(row), log: '', next: offset };
      const message = error instanceof Error ? error.message : String(error);
      const lost = `The gateway lost this build (${message}); build again`;
      row = await finish(
        row,
        row.buildKey,
        { key: row.buildKey, state: 'failed', log: '', next: 0, error: lost },
        '',
      );
      return { image: summary(row), log: '', next: offset };
    }
    if (view.state === 'ready' || view.state === 'failed') {
      // The whole log is stored once: read it from the start.
      const whole = offset === 0 ? view : await gateway.imageBuild(row.buildKey, 0);
      row = await finish(row, row.buildKey, view, whole.log);
    }
    return { image: summary(row), log: view.log, next: view.next };
  }

  return {
    async list(workspaceId: string): Promise<ImageSummary[]> {
      const rows = await db.workspaceImage.findMany({ where: { workspaceId }, orderBy: { name: 'asc' } });
      // Builds nobody watched finish here too: each building image asks the gateway once.
      return Promise.all(
        rows.map(async (row) =>
          row.buildState === 'building'
            ? (await follow(workspaceId, row.id, MAX_OFFSET)).image
            : summary(row),
        ),
      );
    },

    async get(workspaceId: string, imageId: string): Promise<ImageSummary> {
      return summary(await find(workspaceId, imageId));
    },

    /** Defines an image and starts building it. */
    async create(
      workspaceId: string,
      actor: ImageActor,
      input: { name: string; debian?: unknown; python?: unknown },
    ): Promise<ImageSummary> {
      const name = checkName(input.name);
      const spec = parseImageSpec(input);
      if ((await db.workspaceImage.count({ where: { workspaceId } })) >= MAX_IMAGES_PER_WORKSPACE)
        throw new DomainError('QUOTA_EXCEEDED', `A workspace has at most ${MAX_IMAGES_PER_WORKSPACE} images`);
      if (await db.workspaceImage.findFirst({ where: { workspaceId, name } }))
        throw new DomainError('CONFLICT', `An image named "${name}" already exists`, { field: 'name' });
      const row = await audited(
        workspaceId,
        actor,
        'image.created',
        (tx) => tx.workspaceImage.create({ data: { workspaceId, name, ...spec, createdById: actor.userId } }),
        (created) => ({ target: name, metadata: { imageId: created.id, ...spec } }),
      );
      return summary(await startBuild(row));
    },

    /** Changes an image's name or packages; new packages build while kernels keep the last build. */
    async update(
      workspaceId: string,
      imageId: string,
      input: { name?: string; debian?: unknown; python?: unknown },
      actor: ImageActor,
    ): Promise<ImageSummary> {
      const row = await find(workspaceId, imageId);
      const name = input.name === undefined ? row.name : checkName(input.name);
      const spec = parseImageSpec({
        debian: input.debian ?? row.debian,
        python: input.python ?? row.python,
      });
      if (name !== row.name && (await db.workspaceImage.findFirst({ where: { workspaceId, name } })))
        throw new DomainError('CONFLICT', `An image named "${name}" already exists`, { field: 'name' });
      const changed = spec.debian.join() !== row.debian.join() || spec.python.join() !== row.python.join();
      const saved = await audited(
        workspaceId,
        actor,
        'image.updated',
        (tx) => tx.workspaceImage.update({ where: { id: row.id }, data: { name, ...spec } }),
        () => ({
          target: name,
          metadata: {
            imageId: row.id,
            ...(name !== row.name ? { renamedFrom: row.name } : {}),
            before: { debian: row.debian, python: row.python },
            after: { debian: spec.debian, python: spec.python },
          },
        }),
      );
      return summary(changed ? await startBuild(saved) : saved);
    },

    /** Builds the current definition again (after a failure, say). */
    async rebuild(workspaceId: string, imageId: string, actor: ImageActor): Promise<ImageSummary> {
      const row = await find(workspaceId, imageId);
      await recordAudit(db, {
        action: 'image.rebuilt',
        workspaceId,
        actorId: actor.userId,
        ip: actor.ip,
        target: row.name,
        metadata: { imageId: row.id, debian: row.debian, python: row.python },
      });
      return summary(await startBuild(row));
    },

    /**
     * Deletes the definition; notebooks on it go back to the base image, and its builds are deleted on
     * the nodes unless another image names them or a kernel still runs on one (a later prune takes it).
     */
    async remove(workspaceId: string, imageId: string, actor: ImageActor): Promise<void> {
      const row = await find(workspaceId, imageId);
      await audited(
        workspaceId,
        actor,
        'image.deleted',
        (tx) => tx.workspaceImage.delete({ where: { id: row.id } }),
        () => ({ target: row.name, metadata: { imageId: row.id, builtKey: row.builtKey } }),
      );
      await prune();
    },

    follow,
  };
}

/**
 * The image a kernel of the workspace runs on, for `POST /api/kernels`'s `image`: the last spec of
 * `imageId` that built. Null `imageId`: the base image (undefined). Notebooks, endpoints and functions
 * call this with the image they name; another workspace's image is NOT_FOUND.
 */
export async function kernelImage(
  db: Db,
  workspaceId: string,
  imageId: string | null | undefined,
): Promise<ImageSpec | undefined> {
  if (!imageId) return undefined;
  const row = await db.workspaceImage.findFirst({
    where: { id: imageId, workspaceId },
    select: { name: true, builtKey: true, builtDebian: true, builtPython: true, buildState: true },
  });
  if (!row) throw notFound();
  if (!row.builtKey)
    throw new DomainError(
      'CONFLICT',
      row.buildState === 'failed'
        ? `Image "${row.name}" failed to build; fix it on the Images page or pick another image`
        : `Image "${row.name}" is still building; run again when it is ready`,
    );
  return { debian: row.builtDebian, python: row.builtPython };
}

export type ImageStore = ReturnType<typeof createImageStore>;
