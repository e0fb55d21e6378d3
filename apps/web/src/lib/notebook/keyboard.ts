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
  | 'select-next'
  | 'copy'
  | 'cut'
  | 'paste-below'
  | 'paste-above'
  | 'merge-below'
  | 'interrupt'
  | 'restart'
  | 'show-shortcuts'
  | 'save-checkpoint'
  | 'command-palette'
  | 'find';

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
  /** The first key of a two-key command (D,D; I,I; 0,0) waiting for its second press. */
  pending: string | null;
}

/** Two presses of the same key: D,D deletes, I,I interrupts, 0,0 restarts (as in Jupyter). */
const DOUBLE_KEYS: Record<string, NotebookCommand> = { d: 'delete', i: 'interrupt', '0': 'restart' };

const COMMAND_KEYS: Record<string, NotebookCommand> = {
  a: 'insert-above',
  b: 'insert-below',
  m: 'to-markdown',
  y: 'to-code',
  z: 'undo-delete',
  k: 'select-previous',
  j: 'select-next',
  c: 'copy',
  x: 'cut',
  v: 'paste-below',
  h: 'show-shortcuts',
  ArrowUp: 'select-previous',
  ArrowDown: 'select-next',
};

/** Shifted letters that mean something else than the plain letter. */
const SHIFT_KEYS: Record<string, NotebookCommand> = { m: 'merge-below', v: 'paste-above' };

const none: KeyResult = { command: null, pending: null };
const is = (command: NotebookCommand): KeyResult => ({ command, pending: null });

function runCommand(input: KeyInput): NotebookCommand | null {
  if (input.key !== 'Enter') return null;
  if (input.shiftKey && !input.ctrlKey && !input.metaKey && !input.altKey) return 'run-select-next';
  if ((input.ctrlKey || input.metaKey) && !input.shiftKey && !input.altKey) return 'run';
  if (input.altKey && !input.shiftKey && !input.ctrlKey && !input.metaKey) return 'run-insert-below';
  return null;
}

/** Ctrl/Cmd shortcuts that work in both modes: save a checkpoint, the command palette, find. */
function globalCommand(input: KeyInput): NotebookCommand | null {
  if (!(input.ctrlKey || input.metaKey) || input.altKey) return null;
  const key = input.key.toLowerCase();
  if (key === 's' && !input.shiftKey) return 'save-checkpoint';
  if (key === 'p' && input.shiftKey) return 'command-palette';
  if (key === 'f' && !input.shiftKey) return 'find';
  return null;
}

/** Maps a key press to a notebook command, following JupyterLab's default shortcuts. */
export function commandForKey(input: KeyInput, mode: NotebookMode, pending: string | null = null): KeyResult {
  const run = runCommand(input);
  if (run) return is(run);
  const global = globalCommand(input);
  if (global) return is(global);
  if (mode === 'edit') return input.key === 'Escape' ? is('enter-command') : none;
  if (input.ctrlKey || input.metaKey || input.altKey) return none;
  if (input.key === 'Enter' && !input.shiftKey) return is('enter-edit');
  const key = input.key.length === 1 ? input.key.toLowerCase() : input.key;
  const double = DOUBLE_KEYS[key];
  if (double && !input.shiftKey) return pending === key ? is(double) : { command: null, pending: key };
  if (input.shiftKey && SHIFT_KEYS[key]) return is(SHIFT_KEYS[key]);
  const command = COMMAND_KEYS[key];
  return command ? is(command) : none;
}

/** The shortcut list (H) and the command palette show these, in this order. */
export const SHORTCUTS: readonly { keys: string; command: NotebookCommand; label: string; mode: string }[] = [
  { keys: 'Shift+Enter', command: 'run-select-next', label: 'Run cell, select below', mode: 'both' },
  { keys: 'Ctrl+Enter', command: 'run', label: 'Run cell', mode: 'both' },
  { keys: 'Alt+Enter', command: 'run-insert-below', label: 'Run cell, insert below', mode: 'both' },
  { keys: 'Enter', command: 'enter-edit', label: 'Edit the selected cell', mode: 'command' },
  { keys: 'Esc', command: 'enter-command', label: 'Leave the editor (command mode)', mode: 'edit' },
  { keys: 'A', command: 'insert-above', label: 'Insert cell above', mode: 'command' },
  { keys: 'B', command: 'insert-below', label: 'Insert cell below', mode: 'command' },
  { keys: 'C', command: 'copy', label: 'Copy cell', mode: 'command' },
  { keys: 'X', command: 'cut', label: 'Cut cell', mode: 'command' },
  { keys: 'V', command: 'paste-below', label: 'Paste cells below', mode: 'command' },
  { keys: 'Shift+V', command: 'paste-above', label: 'Paste cells above', mode: 'command' },
  { keys: 'D, D', command: 'delete', label: 'Delete cell', mode: 'command' },
  { keys: 'Z', command: 'undo-delete', label: 'Undo cell deletion', mode: 'command' },
  { keys: 'Shift+M', command: 'merge-below', label: 'Merge with the cell below', mode: 'command' },
  { keys: 'M', command: 'to-markdown', label: 'Change to markdown', mode: 'command' },
  { keys: 'Y', command: 'to-code', label: 'Change to code', mode: 'command' },
  { keys: 'K / ↑', command: 'select-previous', label: 'Select cell above', mode: 'command' },
  { keys: 'J / ↓', command: 'select-next', label: 'Select cell below', mode: 'command' },
  { keys: 'I, I', command: 'interrupt', label: 'Interrupt the kernel', mode: 'command' },
  { keys: '0, 0', command: 'restart', label: 'Restart the kernel', mode: 'command' },
  { keys: 'H', command: 'show-shortcuts', label: 'Show keyboard shortcuts', mode: 'command' },
  { keys: 'Ctrl+S', command: 'save-checkpoint', label: 'Save a named checkpoint', mode: 'both' },
  { keys: 'Ctrl+F', command: 'find', label: 'Find and replace', mode: 'both' },
  { keys: 'Ctrl+Shift+P', command: 'command-palette', label: 'Command palette', mode: 'both' },
];
