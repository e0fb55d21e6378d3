'use client';
import { notebookParts } from '@kiln/notebook';
import { useEffect, useState } from 'react';
import * as Y from 'yjs';
import { type Heading, markdownHeadings } from '../../lib/notebook/outline.ts';
import { useIde } from './ide-context.tsx';

function readHeadings(doc: Y.Doc): Heading[] {
  const cells = notebookParts(doc).cells.toArray();
  return cells.flatMap((cell, index) => {
    const source = cell.get('source');
    if (cell.get('cell_type') !== 'markdown' || !(source instanceof Y.Text)) return [];
    return markdownHeadings(source.toString(), index);
  });
}

/** The active notebook's table of contents, from its markdown headings; a click shows the cell. */
export function Outline() {
  const ide = useIde();
  const active = ide?.active ?? null;
  const [headings, setHeadings] = useState<Heading[]>([]);
  useEffect(() => {
    if (!active) {
      setHeadings([]);
      return;
    }
    const { cells } = notebookParts(active.doc);
    const update = () => setHeadings(readHeadings(active.doc));
    update();
    cells.observeDeep(update);
    return () => cells.unobserveDeep(update);
  }, [active]);

  if (!active) return <p className="muted small side-note">Open a notebook to see its outline.</p>;
  if (headings.length === 0) {
    return <p className="muted small side-note">Markdown headings (# Title) in this notebook appear here.</p>;
  }
  return (
    <nav aria-label="Table of contents">
      <ul className="side-list outline">
        {headings.map((heading) => (
          <li key={`${heading.cellIndex}-${heading.offset}`}>
            <button
              type="button"
              className="side-item outline-item"
              style={{ paddingLeft: 8 + (heading.level - 1) * 12 }}
              onClick={() => active.reveal(heading.cellIndex)}
            >
              <span className="truncate">{heading.text}</span>
            </button>
          </li>
        ))}
      </ul>
    </nav>
  );
}
