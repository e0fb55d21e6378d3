'use client';
import { type NotebookJson, notebookParts } from '@kiln/notebook';
import { useMemo } from 'react';
import * as Y from 'yjs';
import { joinText } from '../../lib/notebook/output-model.ts';
import { type DiffCell, diffNotebooks } from '../../lib/notebook/version-diff.ts';

function versionCells(notebook: NotebookJson): DiffCell[] {
  return notebook.cells.map((cell, index) => ({
    id: cell.id ?? `cell-${index}`,
    type: cell.cell_type,
    source: joinText(cell.source as never),
  }));
}

function liveCells(doc: Y.Doc): DiffCell[] {
  return notebookParts(doc)
    .cells.toArray()
    .map((cell) => {
      const source = cell.get('source');
      return {
        id: String(cell.get('id')),
        type: String(cell.get('cell_type')),
        source: source instanceof Y.Text ? source.toString() : '',
      };
    });
}

/** What changed in the notebook since a saved version, cell by cell, lines added and removed. */
export function VersionChanges({ version, current }: { version: NotebookJson; current: Y.Doc }) {
  const changes = useMemo(() => diffNotebooks(versionCells(version), liveCells(current)), [version, current]);
  if (changes.length === 0) {
    return <p className="empty">The notebook's cells are the same as in this version.</p>;
  }
  return (
    <ol className="version-changes" aria-label="Changes since this version">
      {changes.map((change) => (
        <li
          key={`${change.kind}-${change.cell.id}`}
          className={`version-change version-change-${change.kind}`}
        >
          <div className="version-change-title small">
            {change.kind === 'added'
              ? `Cell ${change.index + 1} added`
              : change.kind === 'removed'
                ? 'Cell removed'
                : `Cell ${change.index + 1} changed`}
          </div>
          <pre className="version-diff">
            {change.kind === 'changed'
              ? change.lines.map((line, i) => (
                  // biome-ignore lint/suspicious/noArrayIndexKey: lines of a fixed diff.
                  <div key={i} className={`diff-${line.kind}`}>
                    <span aria-hidden="true">
                      {line.kind === 'added' ? '+ ' : line.kind === 'removed' ? '- ' : '  '}
                    </span>
                    {line.text}
                  </div>
                ))
              : change.cell.source.split('\n').map((text, i) => (
                  // biome-ignore lint/suspicious/noArrayIndexKey: lines of a fixed text.
                  <div key={i} className={change.kind === 'added' ? 'diff-added' : 'diff-removed'}>
                    <span aria-hidden="true">{change.kind === 'added' ? '+ ' : '- '}</span>
                    {text}
                  </div>
                ))}
          </pre>
        </li>
      ))}
    </ol>
  );
}
