import { createHash } from 'node:crypto';
import type { Db } from '@kiln/db';
import { serializeIpynb, serializeIpynbLike, yDocToIpynb } from '@kiln/notebook/ipynb';
import type * as Y from 'yjs';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * Keeps the .ipynb file a notebook was imported from, so an unchanged notebook downloads as the exact
 * bytes uploaded. nbformat 2 and 3 files are not kept: they were upgraded, and download as nbformat 4.
 */
export async function saveNotebookImport(
  db: Db,
  input: { notebookId: string; content: string; canonicalSha256: string | null },
): Promise<void> {
  // Only nbformat 4 files are kept to export as they were (older ones were upgraded on the way in).
  if (input.canonicalSha256 === null) return;
  await db.notebookImport.create({
    data: { notebookId: input.notebookId, content: input.content, canonicalSha256: input.canonicalSha256 },
  });
}

/**
 * The notebook as an .ipynb file: the imported file itself while the notebook holds what the import
 * put in it, the imported file's layout once it has changed, nbformat's form for notebooks made here.
 */
export async function exportNotebookFile(db: Db, notebookId: string, doc: Y.Doc): Promise<string> {
  const nb = yDocToIpynb(doc);
  const canonical = serializeIpynb(nb);
  const imported = await db.notebookImport.findUnique({
    where: { notebookId },
    select: { content: true, canonicalSha256: true },
  });
  if (!imported) return canonical;
  if (imported.canonicalSha256 === sha256(canonical)) return imported.content;
  return serializeIpynbLike(nb, imported.content);
}
