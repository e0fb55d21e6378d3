import type { CellJson, NotebookJson } from '@kiln/notebook';
import { ipynbToYDoc } from '@kiln/notebook/ipynb';
import type * as Y from 'yjs';
import type { PrerenderedRichTexts } from '../../lib/notebook/rich-text-key.ts';

/**
 * The first cells of a notebook as the server read them from the live document, sent with the
 * page so code is on screen before the websocket has synced. `total` is the whole notebook's count.
 */
export interface NotebookSnapshot {
  cells: CellJson[];
  total: number;
  metadata: NotebookJson['metadata'];
  /** The server's renders of these cells' markdown and TeX (`prerenderRichText`). */
  richText?: PrerenderedRichTexts;
}

/** A document holding the snapshot's cells, rendered (read-only) until the live one has synced. */
export function snapshotDoc(snapshot: NotebookSnapshot): Y.Doc {
  return ipynbToYDoc({ nbformat: 4, nbformat_minor: 5, metadata: snapshot.metadata, cells: snapshot.cells });
}
