import { DomainError } from '@kiln/core';
import type { Db } from '@kiln/db';
import { getNotebook } from './notebooks.ts';

export interface NotebookVersionListItem {
  id: string;
  name: string;
  createdAt: Date;
  createdBy: { name: string } | null;
}

const VERSION_NOT_FOUND = 'Version not found';

/** Stores a named snapshot (a Yjs state update) of a notebook of this workspace. */
export async function saveNotebookVersion(
  db: Db,
  input: { workspaceId: string; notebookId: string; name: string; snapshot: Uint8Array; createdById: string },
): Promise<NotebookVersionListItem> {
  await getNotebook(db, input.workspaceId, input.notebookId);
  const row = await db.notebookVersion.create({
    data: {
      notebookId: input.notebookId,
      name: input.name,
      snapshot: new Uint8Array(input.snapshot),
      createdById: input.createdById,
    },
    include: { createdBy: { select: { name: true } } },
  });
  return { id: row.id, name: row.name, createdAt: row.createdAt, createdBy: row.createdBy };
}

/** A notebook's named versions, newest first. */
export async function listNotebookVersions(
  db: Db,
  workspaceId: string,
  notebookId: string,
): Promise<NotebookVersionListItem[]> {
  await getNotebook(db, workspaceId, notebookId);
  const rows = await db.notebookVersion.findMany({
    where: { notebookId },
    select: { id: true, name: true, createdAt: true, createdBy: { select: { name: true } } },
    orderBy: [{ createdAt: 'desc' }, { id: 'asc' }],
  });
  return rows;
}

/** One version with its snapshot; NOT_FOUND unless it belongs to this workspace's notebook. */
export async function getNotebookVersion(
  db: Db,
  input: { workspaceId: string; notebookId: string; versionId: string },
): Promise<NotebookVersionListItem & { snapshot: Uint8Array }> {
  const row = await db.notebookVersion.findFirst({
    where: {
      id: input.versionId,
      notebookId: input.notebookId,
      notebook: { workspaceId: input.workspaceId },
    },
    include: { createdBy: { select: { name: true } } },
  });
  if (!row) throw new DomainError('NOT_FOUND', VERSION_NOT_FOUND);
  return {
    id: row.id,
    name: row.name,
    createdAt: row.createdAt,
    createdBy: row.createdBy,
    snapshot: row.snapshot,
  };
}
