'use client';
import type { CellJson, JsonValue, NotebookJson, OutputJson } from '@kiln/notebook';
import { joinText } from '../../lib/notebook/output-model.ts';
import { useRichText } from '../../lib/notebook/rich-text.tsx';
import { OutputItem } from './output-view.tsx';
import { StaticCode } from './static-code.tsx';

function sourceOf(cell: CellJson): string {
  return joinText(cell.source as JsonValue | undefined);
}

function PreviewMarkdown({ source }: { source: string }) {
  const html = useRichText('markdown', source);
  if (!source.trim()) return <div className="markdown markdown-empty muted">Empty markdown cell.</div>;
  if (html === null) return <div className="markdown markdown-source">{source}</div>;
  // biome-ignore lint/security/noDangerouslySetInnerHtml: the browser's renderer sanitises its output.
  return <div className="markdown" dangerouslySetInnerHTML={{ __html: html }} />;
}

function PreviewCell({ cell, index, notebookId }: { cell: CellJson; index: number; notebookId: string }) {
  const source = sourceOf(cell);
  const isCode = cell.cell_type === 'code';
  const outputs: OutputJson[] = isCode && Array.isArray(cell.outputs) ? cell.outputs : [];
  return (
    <section className="cell preview-cell" aria-label={`Cell ${index + 1}`} data-cell-type={cell.cell_type}>
      <div className="cell-gutter">
        {isCode ? <span className="cell-prompt">[{cell.execution_count ?? ' '}]:</span> : null}
      </div>
      <div className="cell-body">
        {cell.cell_type === 'markdown' ? (
          <PreviewMarkdown source={source} />
        ) : (
          <div className="cell-editor cell-static">
            <StaticCode text={source} language="python" />
          </div>
        )}
        {outputs.length > 0 ? (
          <div className="cell-outputs-wrap">
            <div className="cell-outputs">
              {outputs.map((output, i) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: a saved version never changes, so positions are stable.
                <OutputItem key={i} output={output} notebookId={notebookId} />
              ))}
            </div>
          </div>
        ) : null}
      </div>
    </section>
  );
}

/** A saved version's cells and outputs, read-only, drawn with the live notebook's renderers. */
export function VersionPreview({ notebook, notebookId }: { notebook: NotebookJson; notebookId: string }) {
  if (notebook.cells.length === 0) return <div className="empty">This version has no cells.</div>;
  return (
    <div className="version-preview">
      {notebook.cells.map((cell, index) => (
        <PreviewCell key={cell.id ?? index} cell={cell} index={index} notebookId={notebookId} />
      ))}
    </div>
  );
}
