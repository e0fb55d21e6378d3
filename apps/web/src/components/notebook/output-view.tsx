'use client';
import type { JsonValue, OutputJson } from '@kiln/notebook';
import { memo, useMemo } from 'react';
import { ansiToHtml } from '../../lib/notebook/ansi.ts';
import { joinText, pickMime, truncationOf, withoutOverflowKey } from '../../lib/notebook/output-model.ts';
import { useRichText, useSanitizedSvg } from '../../lib/notebook/rich-text.tsx';

/** Where a truncated output's full text can be downloaded (served by the execution service's route). */
export function overflowUrl(notebookId: string, key: string): string {
  return `/api/notebooks/${encodeURIComponent(notebookId)}/outputs/${encodeURIComponent(key)}`;
}

function Html({ html, className }: { html: string; className: string }) {
  // biome-ignore lint/security/noDangerouslySetInnerHtml: every caller passes sanitised or escaped HTML.
  return <div className={className} dangerouslySetInnerHTML={{ __html: html }} />;
}

function TerminalText({ text, className }: { text: string; className: string }) {
  const html = useMemo(() => ansiToHtml(withoutOverflowKey(text)), [text]);
  // biome-ignore lint/security/noDangerouslySetInnerHtml: ansi_up escapes the text before adding colour spans.
  return <pre className={className} dangerouslySetInnerHTML={{ __html: html }} />;
}

function JsonTree({ value, name, depth = 0 }: { value: JsonValue; name?: string; depth?: number }) {
  const label = name === undefined ? null : <span className="json-key">{name}: </span>;
  if (value === null || typeof value !== 'object') {
    return (
      <div className="json-leaf">
        {label}
        <span className={`json-${value === null ? 'null' : typeof value}`}>{JSON.stringify(value)}</span>
      </div>
    );
  }
  const entries: [string, JsonValue][] = Array.isArray(value)
    ? value.map((item, i) => [String(i), item])
    : Object.entries(value);
  const summary = Array.isArray(value) ? `Array(${entries.length})` : `{${entries.length} keys}`;
  return (
    <details className="json-node" open={depth < 1}>
      <summary>
        {label}
        <span className="muted">{summary}</span>
      </summary>
      {entries.map(([key, item]) => (
        <JsonTree key={key} name={key} value={item} depth={depth + 1} />
      ))}
    </details>
  );
}

function image(mime: string, data: JsonValue): string {
  return `data:${mime};base64,${joinText(data).replace(/\s/g, '')}`;
}

/** Markdown and TeX outputs: the server's render, or the browser's once marked and KaTeX have loaded. */
function RichTextOutput({ kind, source }: { kind: 'markdown' | 'latex'; source: string }) {
  const html = useRichText(kind, source);
  if (html === null) return <pre className="output-text">{source}</pre>;
  return <Html className="output-markdown markdown" html={html} />;
}

/** HTML outputs (DataFrames): the server's render, or the browser's sanitised one once hydrated. */
function HtmlOutput({ source }: { source: string }) {
  const html = useRichText('html', source);
  return <Html className="output-html" html={html ?? ''} />;
}

function SvgOutput({ source }: { source: string }) {
  const svg = useSanitizedSvg(source);
  if (svg === null) return null;
  // An <img> never runs scripts, whatever survived sanitising. next/image cannot take data: URLs.
  return (
    // biome-ignore lint/performance/noImgElement: see above
    <img
      className="output-image"
      alt="Cell output (SVG)"
      src={`data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`}
    />
  );
}

function RichOutput({ data }: { data: Record<string, JsonValue> }) {
  const mime = pickMime(data);
  const value = mime ? data[mime] : undefined;
  if (!mime || value === undefined) return null;
  switch (mime) {
    case 'text/html':
      return <HtmlOutput source={joinText(value)} />;
    case 'text/markdown':
      return <RichTextOutput kind="markdown" source={joinText(value)} />;
    case 'text/latex':
      return <RichTextOutput kind="latex" source={joinText(value)} />;
    case 'image/svg+xml':
      return <SvgOutput source={joinText(value)} />;
    case 'image/png':
    case 'image/jpeg':
      // biome-ignore lint/performance/noImgElement: kernel images are data: URLs, which next/image does not optimise.
      return <img className="output-image" alt="Cell output (bitmap)" src={image(mime, value)} />;
    case 'application/json':
      return (
        <div className="output-json">
          <JsonTree value={value} />
        </div>
      );
    default:
      return <TerminalText className="output-text" text={joinText(value)} />;
  }
}

function Truncation({ output, notebookId }: { output: OutputJson; notebookId: string }) {
  const info = truncationOf(output);
  if (!info?.key) return null;
  return (
    <a className="output-truncated" href={overflowUrl(notebookId, info.key)} download>
      Download the full output
    </a>
  );
}

/** One nbformat output, rendered safely. */
export const OutputItem = memo(function OutputItem({
  output,
  notebookId,
}: {
  output: OutputJson;
  notebookId: string;
}) {
  switch (output.output_type) {
    case 'stream':
      return (
        <>
          <TerminalText
            className={`output-text output-stream ${output.name === 'stderr' ? 'output-stderr' : ''}`}
            text={joinText(output.text)}
          />
          <Truncation output={output} notebookId={notebookId} />
        </>
      );
    case 'error': {
      const traceback = Array.isArray(output.traceback)
        ? output.traceback.map((line) => String(line)).join('\n')
        : `${String(output.ename)}: ${String(output.evalue)}`;
      return <TerminalText className="output-text output-error" text={traceback} />;
    }
    case 'display_data':
    case 'execute_result':
      return (
        <>
          <RichOutput data={(output.data as Record<string, JsonValue>) ?? {}} />
          <Truncation output={output} notebookId={notebookId} />
        </>
      );
    default:
      return (
        <div className="output-text muted">Output of type {String(output.output_type)} is not shown.</div>
      );
  }
});
