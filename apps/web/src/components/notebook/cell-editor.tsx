'use client';
import { useEffect, useRef } from 'react';
import { MonacoBinding } from 'y-monaco';
import type { Awareness } from 'y-protocols/awareness';
import type * as Y from 'yjs';
import { commandForKey, type NotebookCommand } from '../../lib/notebook/keyboard.ts';
import { keepCursorsBeforeRemoteInserts } from './binding-cursor.ts';
import { registerCellEditor } from './editor-registry.ts';
import { attachKernelAssist } from './kernel-assist-providers.ts';
import { monaco } from './monaco.ts';
import { applyMonacoTheme, registerPythonTokens } from './monaco-theme.ts';
import { useKernelAssist } from './use-kernel-assist.ts';

export interface CellEditorProps {
  source: Y.Text;
  awareness: Awareness | null;
  language: 'python' | 'markdown';
  readOnly: boolean;
  /** Focus the editor when it mounts (entering edit mode on this cell). */
  autoFocus: boolean;
  label: string;
  onCommand(command: NotebookCommand): void;
  onFocus(): void;
  /** Called once the editor has drawn its lines at their final size (the static view can go). */
  onReady?(): void;
  /** Show line numbers (a function file's module; cells go without). */
  lineNumbers?: boolean;
}

const LINE_HEIGHT = 19;

/** A Monaco editor bound to a cell's shared `source`, growing with its content. */
export default function CellEditor(props: CellEditorProps) {
  const host = useRef<HTMLDivElement>(null);
  const editorRef = useRef<monaco.editor.IStandaloneCodeEditor | null>(null);
  // The latest callbacks, read from Monaco's listeners without recreating the editor.
  const latest = useRef(props);
  latest.current = props;
  // Completion and hover docs for people who may run code; read when Monaco asks, like the callbacks.
  const kernelAssist = useKernelAssist();
  const assist = useRef(kernelAssist);
  assist.current = kernelAssist;

  const { source, awareness, language, readOnly, lineNumbers } = props;
  useEffect(() => {
    const element = host.current;
    if (!element) return;
    const model = monaco.editor.createModel(source.toString(), language);
    applyMonacoTheme(monaco);
    registerPythonTokens(monaco);
    const editor = monaco.editor.create(element, {
      model,
      readOnly,
      domReadOnly: readOnly,
      ariaLabel: latest.current.label,
      minimap: { enabled: false },
      lineNumbers: lineNumbers ? 'on' : 'off',
      glyphMargin: false,
      folding: false,
      lineDecorationsWidth: 8,
      lineNumbersMinChars: lineNumbers ? 3 : 0,
      overviewRulerLanes: 0,
      hideCursorInOverviewRuler: true,
      renderLineHighlight: 'none',
      scrollBeyondLastLine: false,
      wordWrap: language === 'markdown' ? 'on' : 'off',
      fontSize: 13,
      lineHeight: LINE_HEIGHT,
      fontFamily: 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace',
      automaticLayout: true,
      padding: { top: 6, bottom: 6 },
      scrollbar: {
        vertical: 'hidden',
        alwaysConsumeMouseWheel: false,
        horizontalScrollbarSize: 8,
        useShadows: false,
      },
      contextmenu: false,
      fixedOverflowWidgets: true,
      tabSize: 4,
      // The static view has no bracket colours; the editor must look the same when it takes over.
      bracketPairColorization: { enabled: false },
    });
    editorRef.current = editor;
    const unregister = registerCellEditor(source, editor);
    const binding = new MonacoBinding(source, model, new Set([editor]), awareness ?? undefined);
    keepCursorsBeforeRemoteInserts(binding, editor, model, source);
    const detachAssist =
      language === 'python' && !readOnly ? attachKernelAssist(model, () => assist.current) : () => {};
    const fit = () => {
      element.style.height = `${Math.max(LINE_HEIGHT + 12, editor.getContentHeight())}px`;
      editor.layout();
    };
    fit();
    // Monaco draws its lines in the next animation frame; a frame queued now runs right after it.
    const ready = requestAnimationFrame(() => latest.current.onReady?.());
    const sizeListener = editor.onDidContentSizeChange(fit);
    const keyListener = editor.onKeyDown((event) => {
      const { command } = commandForKey(event.browserEvent, 'edit');
      if (!command) return;
      // Escape closes open suggestions first, as in JupyterLab; the next one leaves edit mode.
      if (command === 'enter-command' && element.querySelector('.suggest-widget.visible')) return;
      event.preventDefault();
      event.stopPropagation();
      latest.current.onCommand(command);
    });
    const focusListener = editor.onDidFocusEditorText(() => latest.current.onFocus());
    if (latest.current.autoFocus) editor.focus();
    return () => {
      cancelAnimationFrame(ready);
      unregister();
      editorRef.current = null;
      sizeListener.dispose();
      keyListener.dispose();
      focusListener.dispose();
      detachAssist();
      binding.destroy();
      editor.dispose();
      model.dispose();
    };
  }, [source, awareness, language, readOnly, lineNumbers]);

  useEffect(() => {
    const editor = editorRef.current;
    if (props.autoFocus && editor && !editor.hasTextFocus()) editor.focus();
  }, [props.autoFocus]);

  return <div ref={host} className="cell-editor" />;
}
