'use client';
import { createContext, type ReactNode, useContext, useEffect, useMemo, useSyncExternalStore } from 'react';
import { type PrerenderedRichTexts, type RichTextKind, richTextKey } from './rich-text-key.ts';

type Renderer = typeof import('./markdown.ts');

// marked, KaTeX and the renderer are a chunk of their own: most opens show only the server's
// renders, and the chunk is fetched when a cell is edited or shows text the server did not render.
let renderer: Renderer | null = null;
let loading: Promise<Renderer> | null = null;
const listeners = new Set<() => void>();

/** Starts loading the markdown and TeX renderer (once); resolves when it is ready. */
export function loadRichText(): Promise<Renderer> {
  loading ??= import('./markdown.ts').then(
    (module) => {
      renderer = module;
      for (const listener of listeners) listener();
      return module;
    },
    (error: unknown) => {
      // A failed download (the network dropped) is tried again by the next cell that asks.
      loading = null;
      throw error;
    },
  );
  return loading;
}

const subscribe = (listener: () => void) => {
  listeners.add(listener);
  return () => listeners.delete(listener);
};

const Prerendered = createContext<PrerenderedRichTexts>({});

/** The server's renders for the page's first cells (`prerenderRichText`). */
export function PrerenderedRichTextProvider(props: {
  value: PrerenderedRichTexts | undefined;
  children: ReactNode;
}) {
  return <Prerendered.Provider value={props.value ?? {}}>{props.children}</Prerendered.Provider>;
}

/**
 * Sanitised HTML for markdown or TeX: the server's render when it is exact, else the browser's own
 * once the renderer has loaded (the server's inexact render, or null, until then).
 */
export function useRichText(kind: RichTextKind, source: string): string | null {
  const prerendered = useContext(Prerendered);
  const key = useMemo(() => (source.trim() ? richTextKey(kind, source) : null), [kind, source]);
  const server = key === null ? undefined : prerendered[key];
  const exact = server?.exact === true;
  // While hydrating, React reads the server's answer (no renderer), so the markup matches the page's.
  const ready = useSyncExternalStore(
    subscribe,
    () => renderer !== null,
    () => false,
  );
  useEffect(() => {
    if (!exact && source.trim()) loadRichText().catch(() => undefined);
  }, [exact, source]);
  return useMemo(() => {
    if (server?.exact) return server.html;
    if (ready && renderer)
      return kind === 'markdown' ? renderer.renderMarkdown(source) : renderer.renderLatex(source);
    return server?.html ?? null;
  }, [server, ready, kind, source]);
}
