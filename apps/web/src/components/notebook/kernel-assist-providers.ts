'use client';
import {
  hoverMarkdown,
  type KernelCompletion,
  type KernelInspection,
  positionAt,
  type SuggestionKind,
  toSuggestions,
} from '../../lib/notebook/kernel-assist.ts';
import { monaco } from './monaco.ts';

/** Asks the notebook's kernel; `signal` aborts once Monaco no longer wants the answer. */
export interface KernelAssist {
  complete(code: string, cursorPos: number, signal: AbortSignal): Promise<KernelCompletion>;
  inspect(code: string, cursorPos: number, signal: AbortSignal): Promise<KernelInspection>;
}

// Monaco's providers are per language, not per editor: each cell's model says which kernel to ask.
const assists = new WeakMap<monaco.editor.ITextModel, () => KernelAssist | null>();
let registered = false;

// Typing fast cancels a request before it is sent, rather than queueing one per keystroke.
const COMPLETION_DEBOUNCE_MS = 120;

/** Completion and hover docs from the kernel for a cell's model; returns the detach function. */
export function attachKernelAssist(model: monaco.editor.ITextModel, assist: () => KernelAssist | null) {
  if (!registered) {
    registered = true;
    register();
  }
  assists.set(model, assist);
  return () => {
    assists.delete(model);
  };
}

const KINDS: Record<SuggestionKind, monaco.languages.CompletionItemKind> = {
  function: monaco.languages.CompletionItemKind.Function,
  class: monaco.languages.CompletionItemKind.Class,
  module: monaco.languages.CompletionItemKind.Module,
  keyword: monaco.languages.CompletionItemKind.Keyword,
  variable: monaco.languages.CompletionItemKind.Variable,
  property: monaco.languages.CompletionItemKind.Property,
  file: monaco.languages.CompletionItemKind.File,
  magic: monaco.languages.CompletionItemKind.Snippet,
  text: monaco.languages.CompletionItemKind.Text,
};

function abortSignal(token: monaco.CancellationToken): AbortSignal {
  const controller = new AbortController();
  if (token.isCancellationRequested) controller.abort();
  else token.onCancellationRequested(() => controller.abort());
  return controller.signal;
}

function stillWanted(token: monaco.CancellationToken, ms: number): Promise<boolean> {
  return new Promise((resolve) => setTimeout(() => resolve(!token.isCancellationRequested), ms));
}

function register(): void {
  monaco.languages.registerCompletionItemProvider('python', {
    triggerCharacters: ['.'],
    async provideCompletionItems(model, position, _context, token) {
      const assist = assists.get(model)?.();
      if (!assist || !(await stillWanted(token, COMPLETION_DEBOUNCE_MS))) return { suggestions: [] };
      const code = model.getValue();
      const result = await assist
        .complete(code, model.getOffsetAt(position), abortSignal(token))
        .catch(() => null);
      if (!result || token.isCancellationRequested) return { suggestions: [] };
      const suggestions: monaco.languages.CompletionItem[] = [];
      for (const suggestion of toSuggestions(result)) {
        const start = positionAt(code, suggestion.start);
        const end = positionAt(code, suggestion.end);
        // Monaco only takes ranges on the cursor's line that contain the cursor.
        if (start.lineNumber !== position.lineNumber || end.lineNumber !== position.lineNumber) continue;
        if (start.column > position.column || end.column < position.column) continue;
        suggestions.push({
          label: suggestion.label,
          kind: KINDS[suggestion.kind],
          detail: suggestion.detail || undefined,
          insertText: suggestion.label,
          sortText: suggestion.sortText,
          range: new monaco.Range(start.lineNumber, start.column, end.lineNumber, end.column),
        });
      }
      return { suggestions };
    },
  });

  monaco.languages.registerHoverProvider('python', {
    async provideHover(model, position, token) {
      const assist = assists.get(model)?.();
      const word = model.getWordAtPosition(position);
      if (!assist || !word) return null;
      // IPython inspects the (dotted) name that ends at the cursor, so ask at the end of the word.
      const cursor = model.getOffsetAt({ lineNumber: position.lineNumber, column: word.endColumn });
      const result = await assist.inspect(model.getValue(), cursor, abortSignal(token)).catch(() => null);
      const markdown = result ? hoverMarkdown(result) : null;
      if (!markdown || token.isCancellationRequested) return null;
      return {
        range: new monaco.Range(position.lineNumber, word.startColumn, position.lineNumber, word.endColumn),
        // Untrusted and without HTML: the docs come from code anyone in the notebook could have run.
        contents: [{ value: markdown, isTrusted: false, supportHtml: false }],
      };
    },
  });
}
