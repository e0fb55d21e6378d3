import { createNotebook, deleteNotebook } from '@kiln/accounts';
import { cellToJson, getNotebookMetadata, notebookParts } from '@kiln/notebook';
import { ipynbToYDoc } from '@kiln/notebook/ipynb';
import { readIpynb } from '@kiln/notebook/ipynb-reader';
import { z } from 'zod';
import { withImportSlot } from '../import-gate.ts';
import { text } from '../inputs.ts';
import { docFromSnapshot, replaceNotebookContent } from '../notebook-content.ts';
import { exportNotebookFile, saveNotebookImport } from '../notebook-import.ts';
import { sampleNotebook } from '../sample-notebook.ts';
import { requireDocuments, withDocument } from '../services.ts';
import { notebookProcedure, workspaceProcedure } from '../trpc.ts';

/** Largest .ipynb accepted, in characters of JSON text. */
export const MAX_IPYNB_CHARS = 25 * 1024 * 1024;

/** A file name for downloads: the notebook's name without characters file systems refuse. */
export function ipynbFilename(name: string): string {
  const base =
    name
      .replace(/\.ipynb$/i, '')
      .replace(/[\\/:*?"<>|]+/g, '-')
      .trim() || 'notebook';
  return `${base}.ipynb`;
}

/** .ipynb procedures of the `notebook` router. */
export const notebookFileProcedures = {
  /**
   * Creates a notebook from an .ipynb file. The file is parsed before anything is stored, so a
   * file that is not a notebook answers BAD_REQUEST and leaves no trace.
   */
  importIpynb: workspaceProcedure('notebook.edit')
    .input(
      z.object({
        name: text('Notebook name', 200),
        content: z.string('The file must be text').max(MAX_IPYNB_CHARS, 'The file is larger than 25 MiB'),
      }),
    )
    .mutation(({ ctx, input }) =>
      withImportSlot(async () => {
        const documents = requireDocuments(ctx.options);
        const read = ctx.options.ipynbReader
          ? await ctx.options.ipynbReader.read(input.content)
          : readIpynb(input.content);
        const source = docFromSnapshot(read.update);
        const notebook = await createNotebook(ctx.db, {
          workspaceId: input.workspaceId,
          name: input.name,
          createdById: ctx.user.id,
        });
        try {
          await withDocument(documents, notebook.id, (connection) =>
            // The room may already hold content (the web app seeds new notebooks with an empty cell),
            // so the import replaces it rather than merging into it.
            connection.transact((doc) => replaceNotebookContent(doc, source)),
          );
          await saveNotebookImport(ctx.db, {
            notebookId: notebook.id,
            content: input.content,
            canonicalSha256: read.canonicalSha256,
          });
        } catch (error) {
          await deleteNotebook(ctx.db, input.workspaceId, notebook.id).catch(() => undefined);
          throw error;
        }
        return notebook;
      }),
    ),

  /**
   * The first `cells` cells of the live document as nbformat JSON, and how many there are: what a
   * page renders before its websocket has synced, so code is visible on the first paint.
   */
  snapshot: notebookProcedure('workspace.read')
    .input(z.object({ cells: z.number().int().min(1).max(200) }))
    .query(async ({ ctx, input }) => {
      const documents = requireDocuments(ctx.options);
      return withDocument(documents, ctx.notebook.id, (connection) => {
        const all = notebookParts(connection.document).cells;
        const cells = all
          .toArray()
          .slice(0, input.cells)
          .map((cell) => cellToJson(cell));
        return { cells, total: all.length, metadata: getNotebookMetadata(connection.document) };
      });
    }),

  /** Creates the welcome notebook (a kernel, a plot, inviting a collaborator) for a first visit. */
  createSample: workspaceProcedure('notebook.edit').mutation(async ({ ctx, input }) => {
    const documents = requireDocuments(ctx.options);
    // Relative to the notebook's own page (/w/<slug>/n/<id>), so the link needs no workspace lookup.
    const source = ipynbToYDoc(sampleNotebook('../members'));
    const notebook = await createNotebook(ctx.db, {
      workspaceId: input.workspaceId,
      name: 'Welcome to Kiln',
      createdById: ctx.user.id,
    });
    try {
      await withDocument(documents, notebook.id, (connection) =>
        connection.transact((doc) => replaceNotebookContent(doc, source)),
      );
    } catch (error) {
      await deleteNotebook(ctx.db, input.workspaceId, notebook.id).catch(() => undefined);
      throw error;
    }
    return notebook;
  }),

  /**
   * The notebook as an .ipynb file: an imported notebook nobody changed is the uploaded file byte for
   * byte, a changed one keeps that file's layout, and others are written as Jupyter writes them.
   */
  exportIpynb: notebookProcedure('workspace.read').query(async ({ ctx }) => {
    const documents = requireDocuments(ctx.options);
    const content = await withDocument(documents, ctx.notebook.id, (connection) =>
      exportNotebookFile(ctx.db, ctx.notebook.id, connection.document),
    );
    return { filename: ipynbFilename(ctx.notebook.name), content };
  }),
};
