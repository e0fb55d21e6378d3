import { DomainError } from '@kiln/core';
import type { Db } from '@kiln/db';
import type { VersionSandbox } from '@kiln/endpoints';
import { kernelImage } from '@kiln/images/store';
import { MAX_SECRETS_PER_NOTEBOOK } from '@kiln/secrets';
import { MAX_VOLUMES_PER_NOTEBOOK } from '@kiln/volumes';
import { z } from 'zod';
import { id } from '../inputs.ts';
import { type NotebookServices, requireSecrets } from '../services.ts';
import { volumesOf } from './volume.ts';

/** The image, secrets and volumes a deploy chooses; absent: those of the notebook or file it comes from. */
export const sandboxInput = z
  .object({
    imageId: id('Image').nullable(),
    secretIds: z
      .array(id('Secret'))
      .max(MAX_SECRETS_PER_NOTEBOOK, `An endpoint uses at most ${MAX_SECRETS_PER_NOTEBOOK} secrets`),
    volumes: z
      .array(z.object({ volumeId: id('Volume'), readOnly: z.boolean('Read-only must be true or false') }))
      .max(MAX_VOLUMES_PER_NOTEBOOK, `An endpoint mounts at most ${MAX_VOLUMES_PER_NOTEBOOK} volumes`),
  })
  .optional();

type Choice = NonNullable<z.infer<typeof sandboxInput>>;

/** What a notebook's (or function file's) kernel runs with now: the deploy dialog's defaults. */
async function notebookChoice(
  services: NotebookServices & { db: Db },
  workspaceId: string,
  notebookId: string,
): Promise<Choice> {
  const [notebook, secrets, volumes] = await Promise.all([
    services.db.notebook.findFirst({ where: { id: notebookId, workspaceId }, select: { imageId: true } }),
    services.db.notebookSecret.findMany({
      where: { notebookId, notebook: { workspaceId } },
      orderBy: { position: 'asc' },
      select: { secretId: true },
    }),
    volumesOf(services).notebookVolumes(workspaceId, notebookId),
  ]);
  if (!notebook) throw new DomainError('NOT_FOUND', 'Notebook not found');
  return {
    imageId: notebook.imageId,
    secretIds: secrets.map((row) => row.secretId),
    volumes: volumes.map(({ volumeId, readOnly }) => ({ volumeId, readOnly })),
  };
}

/**
 * The sandbox a new version stores: the chosen (or the origin notebook's) image as built now, the
 * secrets by id and name, the volumes by name. Each must be of this workspace; an image that has not
 * built is refused with the reason, so a version never waits on a build that failed.
 */
export async function versionSandbox(
  services: NotebookServices & { db: Db },
  workspaceId: string,
  originId: string,
  chosen: z.infer<typeof sandboxInput>,
): Promise<VersionSandbox> {
  const { db } = services;
  const choice = chosen ?? (await notebookChoice(services, workspaceId, originId));
  let image: VersionSandbox['image'] = null;
  if (choice.imageId) {
    const spec = await kernelImage(db, workspaceId, choice.imageId);
    const row = await db.workspaceImage.findFirstOrThrow({
      where: { id: choice.imageId },
      select: { name: true },
    });
    image = { id: choice.imageId, name: row.name, debian: spec?.debian ?? [], python: spec?.python ?? [] };
  }
  const secrets =
    choice.secretIds.length === 0
      ? []
      : (await requireSecrets(services).summaries(workspaceId, choice.secretIds)).map(({ id, name }) => ({
          id,
          name,
        }));
  const ids = choice.volumes.map((use) => use.volumeId);
  if (new Set(ids).size !== ids.length)
    throw new DomainError('VALIDATION_FAILED', 'Each volume can be mounted only once');
  const rows = await db.volume.findMany({
    where: { workspaceId, id: { in: ids } },
    select: { id: true, name: true },
  });
  const volumes = choice.volumes.map((use) => {
    const row = rows.find((candidate) => candidate.id === use.volumeId);
    if (!row) throw new DomainError('NOT_FOUND', 'Volume not found');
    return { name: row.name, readOnly: use.readOnly };
  });
  return { image, secrets, volumes };
}
