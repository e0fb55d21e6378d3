'use client';
import { createContext, type ReactNode, useContext, useEffect, useMemo, useSyncExternalStore } from 'react';
import { type PrerenderedRichTexts, type RichTextKind, richTextKey } from './rich-text-key.ts';
import { sanitizeSimpleHtml } from './simple-html.ts';

type Renderer = typeof import('./markdown.ts');
type Sanitizer = typeof import('./sanitize.ts');

// marked, KaTeX and the renderer are a chunk of their own, and DOMPurify another: most opens show
// only the server's renders and tables the DOM-free sanitiser accepts, so a chunk is fetched only
// when a cell is edited or shows text that neither the server nor simple-html.ts could render.
let renderer: Renderer | null = null;
let sanitizer: Sanitizer | null = null;
let loadingRenderer: Promise<Renderer> | null = null;
let loadingSanitizer: Promise<Sanitizer> | null = null;
/** Bumped when a chunk arrives, so the components waiting for it render again. */
let loaded = 0;
const listeners = new Set<() => void>();

function arrived(): void {
  loaded += 1;
  for (const listener of listeners) listener();
}

/** Starts loading the markdown and TeX renderer (once); resolves when it is ready. */
export function loadRichText(): Promise<Renderer> {
  loadingRenderer ??= import('./markdown.ts').then(
    (module) => {
      renderer = module;
      arrived();
      return module;
    },
    (error: unknown) => {
      // A failed download (the network dropped) is tried again by the next cell that asks.
      loadingRenderer = null;
      throw error;
    },
  );
  return loadingRenderer;
}

/** Starts loading DOMPurify and the output rules (once), for HTML and SVG outputs. */
export function loadSanitizer(): Promise<Sanitizer> {
  loadingSanitizer ??= import('./sanitize.ts').then(
    (module) => {
      sanitizer = module;
      arrived();
      return module;
    },
    (error: unknown) => {
      loadingSanitizer = null;
      throw error;
    },
  );
  return loadingSanitizer;
}

const subscribe = (listener: () => void) => {
  listeners.add(listener);
  return () => listeners.delete(listener);
};

/**
 * Which chunks have arrived; -1 while hydrating, so React renders what the server sent first and
 * anything computed in the browser only after.
 */
function useLoaded(): number {
  return useSyncExternalStore(
    subscribe,
    () => loaded,
    () => -1,
  );
}

const Prerendered = createContext<PrerenderedRichTexts>({});

/** The server's renders for the page's first cells (`prerenderRichText`). */
export function PrerenderedRichTextProvider(props: {
  value: PrerenderedRichTexts | undefined;
  children: ReactNode;
}) {
  return <Prerendered.Provider value={props.value ?? {}}>{props.children}</Prerendered.Provider>;
}

function renderInBrowser(kind: RichTextKind, source: string): string | null {
  if (kind === 'html') return sanitizer ? sanitizer.sanitizeHtml(source) : null;
  if (!renderer) return null;
  return kind === 'markdown' ? renderer.renderMarkdown(source) : renderer.renderLatex(source);
}

/**
 * Sanitised HTML for markdown, TeX or an HTML output: the server's render when it is exact, else
 * the browser's own (for HTML, the DOM-free sanitiser's when it accepts the output, DOMPurify's
 * otherwise) once hydrated and its chunk has loaded; the server's inexact render, or null, until then.
 */
export function useRichText(kind: RichTextKind, source: string): string | null {
  const prerendered = useContext(Prerendered);
  const key = useMemo(() => (source.trim() ? richTextKey(kind, source) : null), [kind, source]);
  const server = key === null ? undefined : prerendered[key];
  const exact = server?.exact === true;
  const simple = useMemo(
    () => (kind === 'html' && !exact && source.trim() ? sanitizeSimpleHtml(source) : null),
    [kind, exact, source],
  );
  const needsChunk = !exact && simple === null && source.trim() !== '';
  const version = useLoaded();
  useEffect(() => {
    if (!needsChunk) return;
    (kind === 'html' ? loadSanitizer() : loadRichText()).catch(() => undefined);
  }, [needsChunk, kind]);
  return useMemo(() => {
    if (server?.exact) return server.html;
    if (version >= 0 && simple !== null) return simple;
    if (version >= 0) return renderInBrowser(kind, source) ?? server?.html ?? null;
    return server?.html ?? null;
  }, [server, simple, version, kind, source]);
}

/** An untrusted SVG output sanitised by DOMPurify, once its chunk has loaded (null until then). */
export function useSanitizedSvg(source: string): string | null {
  const version = useLoaded();
  useEffect(() => {
    loadSanitizer().catch(() => undefined);
  }, []);
  return useMemo(() => (version >= 0 && sanitizer ? sanitizer.sanitizeSvg(source) : null), [version, source]);
}
