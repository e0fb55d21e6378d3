'use client';
// The editor API alone (not the package root, which bundles TypeScript/CSS/HTML/JSON language
// services we do not use) plus Python's tokenizer. Everything comes from our bundle: Kiln runs offline.
import * as monaco from 'monaco-editor/editor/editor.api';
import 'monaco-editor/languages/definitions/python/register';
import 'monaco-editor/languages/definitions/markdown/register';

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
