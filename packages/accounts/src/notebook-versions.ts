import { DomainError } from '@kiln/core';
import type { Db } from '@kiln/db';
import { getNotebook } from './notebooks.ts';

export interface NotebookVersionListItem {
  id: string;
  name: string;
  /** Taken by the automatic history rather than named by someone. */
  auto: boolean;
  createdAt: Date;
  createdBy: { name: string } | null;
}

/** Automatic versions kept per notebook; older ones are deleted as new ones are taken. */
export const AUTO_VERSIONS_KEPT = 100;

const VERSION_NOT_FOUND = 'Version not found';

/** Stores a named snapshot (a Yjs state update) of a notebook of this workspace. */
export async function saveNotebookVersion(
  db: Db,
  input: {
    workspaceId: string;
    notebookId: string;
    name: string;
    snapshot: Uint8Array;
    /** Null for an automatic version. */
    createdById: string | null;
    auto?: boolean;
  },
): Promise<NotebookVersionListItem> {
  await getNotebook(db, input.workspaceId, input.notebookId);
  const row = await db.notebookVersion.create({
    data: {
      notebookId: input.notebookId,
      name: input.name,
      snapshot: new Uint8Array(input.snapshot),
      createdById: input.createdById,
      auto: input.auto ?? false,
    },
    include: { createdBy: { select: { name: true } } },
  });
  if (row.auto) await pruneAutoVersions(db, input.notebookId);
  return { id: row.id, name: row.name, auto: row.auto, createdAt: row.createdAt, createdBy: row.createdBy };
}

/** Keeps the newest AUTO_VERSIONS_KEPT automatic versions of a notebook; named ones are never pruned. */
async function pruneAutoVersions(db: Db, notebookId: string): Promise<void> {
  const stale = await db.notebookVersion.findMany({
    where: { notebookId, auto: true },
    select: { id: true },
    orderBy: [{ createdAt: 'desc' }, { id: 'asc' }],
    skip: AUTO_VERSIONS_KEPT,
  });
  if (stale.length > 0) {
    await db.notebookVersion.deleteMany({ where: { id: { in: stale.map((row) => row.id) } } });
  }
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
    select: { id: true, name: true, auto: true, createdAt: true, createdBy: { select: { name: true } } },
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
    auto: row.auto,
    createdAt: row.createdAt,
    createdBy: row.createdBy,
    snapshot: row.snapshot,
  };
}

/** Stores an automatic version of a notebook; false when the notebook was deleted meanwhile. */
export async function saveAutoNotebookVersion(
  db: Db,
  notebookId: string,
  snapshot: Uint8Array,
): Promise<boolean> {
  const notebook = await db.notebook.findUnique({ where: { id: notebookId }, select: { workspaceId: true } });
  if (!notebook) return false;
  await saveNotebookVersion(db, {
    workspaceId: notebook.workspaceId,
    notebookId,
    name: 'Automatic save',
    snapshot,
    createdById: null,
    auto: true,
  });
  return true;
}
