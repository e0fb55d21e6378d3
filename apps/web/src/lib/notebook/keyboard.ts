/** Jupyter's two modes: keys edit the focused cell's text, or act on cells as a whole. */
export type NotebookMode = 'command' | 'edit';

/** What a key press asks the notebook to do. */
export type NotebookCommand =
  | 'enter-edit'
  | 'enter-command'
  | 'run'
  | 'run-select-next'
  | 'run-insert-below'
  | 'insert-above'
  | 'insert-below'
  | 'delete'
  | 'to-code'
  | 'to-markdown'
  | 'undo-delete'
  | 'select-previous'
  | 'select-next';

/** The parts of a KeyboardEvent the mapping reads (so it can be tested without a DOM). */
export interface KeyInput {
  key: string;
  shiftKey: boolean;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
}

export interface KeyResult {
  command: NotebookCommand | null;
  /** True after a first `D` in command mode: a second one deletes the cell. */
  pendingDelete: boolean;
}

function runCommand(input: KeyInput): NotebookCommand | null {
  if (input.key !== 'Enter') return null;
  if (input.shiftKey && !input.ctrlKey && !input.metaKey && !input.altKey) return 'run-select-next';
  if ((input.ctrlKey || input.metaKey) && !input.shiftKey && !input.altKey) return 'run';
  if (input.altKey && !input.shiftKey && !input.ctrlKey && !input.metaKey) return 'run-insert-below';
  return null;
}

const COMMAND_KEYS: Record<string, NotebookCommand> = {
  a: 'insert-above',
  b: 'insert-below',
  m: 'to-markdown',
  y: 'to-code',
  z: 'undo-delete',
  k: 'select-previous',
  j: 'select-next',
  ArrowUp: 'select-previous',
  ArrowDown: 'select-next',
};

/** Maps a key press to a notebook command, following JupyterLab's default shortcuts. */
export function commandForKey(input: KeyInput, mode: NotebookMode, pendingDelete = false): KeyResult {
  const run = runCommand(input);
  if (run) return { command: run, pendingDelete: false };
  if (mode === 'edit') {
    return { command: input.key === 'Escape' ? 'enter-command' : null, pendingDelete: false };
  }
  if (input.ctrlKey || input.metaKey || input.altKey) return { command: null, pendingDelete: false };
  if (input.key === 'Enter' && !input.shiftKey) return { command: 'enter-edit', pendingDelete: false };
  const key = input.key.length === 1 ? input.key.toLowerCase() : input.key;
  if (key === 'd') {
    return pendingDelete
      ? { command: 'delete', pendingDelete: false }
      : { command: null, pendingDelete: true };
  }
  return { command: COMMAND_KEYS[key] ?? null, pendingDelete: false };
}
