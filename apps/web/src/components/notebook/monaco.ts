'use client';
// The editor API alone (not the package root, which bundles TypeScript/CSS/HTML/JSON language
// services we do not use) plus Python's tokenizer. Everything comes from our bundle: Kiln runs offline.
import * as monaco from 'monaco-editor/editor/editor.api';
import 'monaco-editor/languages/definitions/python/register';
import 'monaco-editor/languages/definitions/markdown/register';
// The editor API registers no editor contributions: without these, providers for completion and
// hover are registered but nothing ever asks them (Ctrl+Space and pointer hovers do nothing).
import 'monaco-editor/editor/contrib/suggest/browser/suggestController';
import 'monaco-editor/features/hover/register';
// The icons of suggestion kinds.
import 'monaco-editor/features/codicon/register';

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
