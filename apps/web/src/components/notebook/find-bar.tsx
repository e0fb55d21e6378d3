'use client';
import { notebookParts } from '@kiln/notebook';
import { ChevronDown, ChevronUp, X } from 'lucide-react';
import { useEffect, useMemo, useRef, useState } from 'react';
import * as Y from 'yjs';
import { type FindMatch, findMatches, replacementEdits } from '../../lib/notebook/find.ts';
import { IconButton } from '../ui/tooltip.tsx';
import { cellEditorFor } from './editor-registry.ts';
import { useCells } from './use-y.ts';

const HIGHLIGHT = 'kiln-find';
const ICON = { size: 16, 'aria-hidden': true } as const;

function sourcesOf(doc: Y.Doc): Y.Text[] {
  return notebookParts(doc)
    .cells.toArray()
    .map((cell) => cell.get('source'))
    .map((source) => (source instanceof Y.Text ? source : new Y.Text()));
}

/** Re-reads sources on every text change in the notebook. */
function useSources(doc: Y.Doc): string[] {
  const cells = useCells(doc);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const { cells: array } = notebookParts(doc);
    const onChange = () => setTick((t) => t + 1);
    array.observeDeep(onChange);
    return () => array.unobserveDeep(onChange);
  }, [doc]);
  // biome-ignore lint/correctness/useExhaustiveDependencies: `tick` changes whenever any source does.
  return useMemo(() => sourcesOf(doc).map((text) => text.toString()), [doc, cells, tick]);
}

/** Marks matches in static code (CSS Custom Highlight API) and in mounted editors (decorations). */
function useMatchHighlights(doc: Y.Doc, matches: readonly FindMatch[], current: FindMatch | null) {
  useEffect(() => {
    const texts = sourcesOf(doc);
    const collections: { clear(): void }[] = [];
    const ranges: Range[] = [];
    for (const [index, text] of texts.entries()) {
      const inCell = matches.filter((match) => match.cellIndex === index);
      if (inCell.length === 0) continue;
      const editor = cellEditorFor(text);
      const model = editor?.getModel();
      if (editor && model) {
        collections.push(
          editor.createDecorationsCollection(
            inCell.map((match) => {
              const start = model.getPositionAt(match.start);
              const end = model.getPositionAt(match.end);
              const isCurrent = match === current;
              return {
                range: {
                  startLineNumber: start.lineNumber,
                  startColumn: start.column,
                  endLineNumber: end.lineNumber,
                  endColumn: end.column,
                },
                options: { inlineClassName: isCurrent ? 'find-match-current' : 'find-match' },
              };
            }),
          ),
        );
        continue;
      }
      const code = document.querySelector(`[data-cell-index="${index}"] .static-code code`);
      if (code) ranges.push(...textRanges(code, inCell));
    }
    const registry = (globalThis as { CSS?: { highlights?: Map<string, unknown> } }).CSS?.highlights;
    const HighlightCtor = (globalThis as { Highlight?: new (...ranges: Range[]) => unknown }).Highlight;
    if (registry && HighlightCtor) registry.set(HIGHLIGHT, new HighlightCtor(...ranges));
    return () => {
      for (const collection of collections) collection.clear();
      registry?.delete(HIGHLIGHT);
    };
  }, [doc, matches, current]);
}

/** DOM ranges for character offsets within an element's text. */
function textRanges(root: Element, matches: readonly FindMatch[]): Range[] {
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const nodes: { node: Text; start: number }[] = [];
  let offset = 0;
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    nodes.push({ node: node as Text, start: offset });
    offset += node.textContent?.length ?? 0;
  }
  const locate = (position: number) => {
    const hit = [...nodes].reverse().find((entry) => entry.start <= position) ?? nodes[0];
    return hit ? { node: hit.node, offset: Math.min(position - hit.start, hit.node.length) } : null;
  };
  return matches.flatMap((match) => {
    const start = locate(match.start);
    const end = locate(match.end);
    if (!start || !end) return [];
    const range = document.createRange();
    range.setStart(start.node, start.offset);
    range.setEnd(end.node, end.offset);
    return [range];
  });
}

/** Find and replace across every cell of the notebook (Ctrl+F). */
export function FindBar(props: {
  doc: Y.Doc;
  canEdit: boolean;
  onReveal(cellIndex: number): void;
  onClose(): void;
}) {
  const sources = useSources(props.doc);
  const [query, setQuery] = useState('');
  const [replacement, setReplacement] = useState('');
  const [caseSensitive, setCaseSensitive] = useState(false);
  const [position, setPosition] = useState(0);
  const input = useRef<HTMLInputElement>(null);
  const matches = useMemo(
    () => findMatches(sources, query, { caseSensitive }),
    [sources, query, caseSensitive],
  );
  const index = matches.length === 0 ? -1 : Math.min(position, matches.length - 1);
  const current = index >= 0 ? (matches[index] ?? null) : null;
  useMatchHighlights(props.doc, matches, current);

  useEffect(() => input.current?.focus(), []);
  const { onReveal } = props;
  useEffect(() => {
    if (current) onReveal(current.cellIndex);
  }, [current, onReveal]);

  const go = (step: number) => {
    if (matches.length === 0) return;
    setPosition((index + step + matches.length) % matches.length);
  };
  const replace = (which: readonly FindMatch[]) => {
    const texts = sourcesOf(props.doc);
    props.doc.transact(() => {
      for (const cellIndex of new Set(which.map((match) => match.cellIndex))) {
        const text = texts[cellIndex];
        if (!text) continue;
        for (const edit of replacementEdits(which, cellIndex)) {
          text.delete(edit.start, edit.length);
          text.insert(edit.start, replacement);
        }
      }
    });
  };

  return (
    // biome-ignore lint/a11y/useSemanticElements: React 19 types do not know the <search> element yet.
    <div role="search" className="find-bar" aria-label="Find and replace">
      <input
        ref={input}
        className="input find-input"
        aria-label="Find"
        placeholder="Find in notebook"
        value={query}
        onChange={(event) => {
          setQuery(event.target.value);
          setPosition(0);
        }}
        onKeyDown={(event) => {
          if (event.key === 'Enter') go(event.shiftKey ? -1 : 1);
          if (event.key === 'Escape') props.onClose();
        }}
      />
      <span className="find-count muted small" role="status">
        {query ? (matches.length === 0 ? 'No results' : `${index + 1} of ${matches.length}`) : ''}
      </span>
      <IconButton label="Previous match" icon={<ChevronUp {...ICON} />} onClick={() => go(-1)} />
      <IconButton label="Next match" icon={<ChevronDown {...ICON} />} onClick={() => go(1)} />
      <label className="row small find-case">
        <input type="checkbox" checked={caseSensitive} onChange={(e) => setCaseSensitive(e.target.checked)} />
        Match case
      </label>
      {props.canEdit ? (
        <>
          <input
            className="input find-input"
            aria-label="Replace with"
            placeholder="Replace with"
            value={replacement}
            onChange={(event) => setReplacement(event.target.value)}
            onKeyDown={(event) => {
              if (event.key === 'Escape') props.onClose();
            }}
          />
          <button
            type="button"
            className="btn btn-small"
            disabled={!current}
            onClick={() => current && replace([current])}
          >
            Replace
          </button>
          <button
            type="button"
            className="btn btn-small"
            disabled={matches.length === 0}
            onClick={() => replace(matches)}
          >
            Replace all
          </button>
        </>
      ) : null}
      <IconButton label="Close find" icon={<X {...ICON} />} onClick={props.onClose} />
    </div>
  );
}
