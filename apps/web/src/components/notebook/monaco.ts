'use client';
// The editor API alone (not the package root, which bundles TypeScript/CSS/HTML/JSON language
// services we do not use). Everything comes from our bundle: Kiln runs offline.
import * as monaco from 'monaco-editor/editor/editor.api';
// Markdown's grammar is a chunk of its own, fetched only when someone edits a markdown cell.
import 'monaco-editor/languages/definitions/markdown/register';
// The editor API registers no editor contributions: without these, providers for completion and
// hover are registered but nothing ever asks them (Ctrl+Space and pointer hovers do nothing).
import 'monaco-editor/editor/contrib/suggest/browser/suggestController';
import 'monaco-editor/features/hover/register';
// The icons of suggestion kinds.
import 'monaco-editor/features/codicon/register';

// Python is registered here rather than through Monaco's python/register, whose grammar arrives as a
// separate chunk requested only after the first editor exists: a round trip before a cell's brackets
// and indentation work. Its tokens come from the static view's tokenizer (monaco-theme.ts), so only
// the editing rules are needed.
monaco.languages.register({ id: 'python', extensions: ['.py'], aliases: ['Python', 'py'] });
monaco.languages.setLanguageConfiguration('python', {
  comments: { lineComment: '#' },
  brackets: [
    ['(', ')'],
    ['[', ']'],
    ['{', '}'],
  ],
  autoClosingPairs: [
    { open: '(', close: ')' },
    { open: '[', close: ']' },
    { open: '{', close: '}' },
    { open: '"', close: '"', notIn: ['string'] },
    { open: "'", close: "'", notIn: ['string', 'comment'] },
  ],
  surroundingPairs: [
    { open: '(', close: ')' },
    { open: '[', close: ']' },
    { open: '{', close: '}' },
    { open: '"', close: '"' },
    { open: "'", close: "'" },
  ],
  // A compound statement's header (`def f():`, `if x:`) opens a block: Enter indents the next line.
  onEnterRules: [
    {
      beforeText:
        /^\s*(?:async\s+)?(?:def|class|if|elif|else|for|while|try|except|finally|with|match|case)\b.*:\s*(?:#.*)?$/,
      action: { indentAction: monaco.languages.IndentAction.Indent },
    },
  ],
});

declare global {
  interface Window {
    MonacoEnvironment?: { getWorker(workerId: string, label: string): Worker };
  }
}

if (typeof window !== 'undefined' && !window.MonacoEnvironment) {
  window.MonacoEnvironment = {
    // Only the generic editor worker (diffing, word ranges): Python and markdown have no language worker.
    getWorker: () => new Worker(new URL('./editor.worker.ts', import.meta.url), { type: 'module' }),
  };
}

export { monaco };
