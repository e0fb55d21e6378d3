import { DomainError } from '@kiln/core';
import type { Db, NotebookKind } from '@kiln/db';

export interface NotebookListItem {
  id: string;
  name: string;
  /** A notebook or a function file; both live in the workspace's file list. */
  kind: NotebookKind;
  createdAt: Date;
  updatedAt: Date;
  createdBy: { name: string } | null;
}

/** A workspace's notebooks and function files, most recently changed first. */
export async function listNotebooks(db: Db, workspaceId: string): Promise<NotebookListItem[]> {
  const rows = await db.notebook.findMany({
    where: { workspaceId },
    include: { createdBy: { select: { name: true } } },
    orderBy: [{ updatedAt: 'desc' }, { id: 'asc' }],
  });
  return rows.map((row) => ({
    id: row.id,
    name: row.name,
    kind: row.kind,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    createdBy: row.createdBy,
  }));
}

/** One notebook of this workspace; NOT_FOUND when it belongs elsewhere or does not exist. */
export async function getNotebook(db: Db, workspaceId: string, notebookId: string) {
  const row = await db.notebook.findFirst({ where: { id: notebookId, workspaceId } });
  if (!row) throw new DomainError('NOT_FOUND', 'Notebook not found');
  return row;
}

/** What a notebook's kernel may use; `gpu` lists acceptable shapes such as "H100:2", best first. */
export interface NotebookResources {
  cpu: number;
  memoryMiB: number;
  gpu: string[];
}

/** Stores the kernel resources of a notebook of this workspace (validated by the caller). */
export async function setNotebookResources(
  db: Db,
  workspaceId: string,
  notebookId: string,
  resources: NotebookResources,
): Promise<NotebookResources> {
  const result = await db.notebook.updateMany({
    where: { id: notebookId, workspaceId },
    data: { cpu: resources.cpu, memoryMiB: resources.memoryMiB, gpu: resources.gpu },
  });
  if (result.count === 0) throw new DomainError('NOT_FOUND', 'Notebook not found');
  return resources;
}

/** Adds an empty notebook entry (or function file, with `kind: 'function'`). */
export async function createNotebook(
  db: Db,
  input: { workspaceId: string; name: string; createdById: string; kind?: NotebookKind },
): Promise<{ id: string; name: string; kind: NotebookKind }> {
  return db.notebook.create({
    data: {
      workspaceId: input.workspaceId,
      name: input.name,
      createdById: input.createdById,
      kind: input.kind ?? 'notebook',
    },
    select: { id: true, name: true, kind: true },
  });
}

/** Renames a notebook of this workspace. */
export async function renameNotebook(
  db: Db,
  workspaceId: string,
  notebookId: string,
  name: string,
): Promise<{ id: string; name: string }> {
  const result = await db.notebook.updateMany({ where: { id: notebookId, workspaceId }, data: { name } });
  if (result.count === 0) throw new DomainError('NOT_FOUND', 'Notebook not found');
  return { id: notebookId, name };
}

/** Deletes a notebook of this workspace. */
export async function deleteNotebook(db: Db, workspaceId: string, notebookId: string): Promise<void> {
  const result = await db.notebook.deleteMany({ where: { id: notebookId, workspaceId } });
  if (result.count === 0) throw new DomainError('NOT_FOUND', 'Notebook not found');
}
