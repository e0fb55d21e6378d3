import { describe, expect, it } from 'vitest';
import { commandForKey, type KeyInput } from './keyboard.ts';

const key = (k: string, mods: Partial<KeyInput> = {}): KeyInput => ({
  key: k,
  shiftKey: false,
  ctrlKey: false,
  metaKey: false,
  altKey: false,
  ...mods,
});

describe('commandForKey', () => {
  it('runs cells with Shift/Ctrl/Cmd/Alt+Enter in both modes', () => {
    for (const mode of ['edit', 'command'] as const) {
      expect(commandForKey(key('Enter', { shiftKey: true }), mode).command).toBe('run-select-next');
      expect(commandForKey(key('Enter', { ctrlKey: true }), mode).command).toBe('run');
      expect(commandForKey(key('Enter', { metaKey: true }), mode).command).toBe('run');
      expect(commandForKey(key('Enter', { altKey: true }), mode).command).toBe('run-insert-below');
    }
  });

  it('leaves ordinary typing to the editor in edit mode; Escape leaves it', () => {
    expect(commandForKey(key('a'), 'edit').command).toBeNull();
    expect(commandForKey(key('Enter'), 'edit').command).toBeNull();
    expect(commandForKey(key('ArrowDown'), 'edit').command).toBeNull();
    expect(commandForKey(key('Escape'), 'edit').command).toBe('enter-command');
  });

  it('maps Jupyter command-mode letters, upper or lower case', () => {
    expect(commandForKey(key('Enter'), 'command').command).toBe('enter-edit');
    expect(commandForKey(key('a'), 'command').command).toBe('insert-above');
    expect(commandForKey(key('B', { shiftKey: true }), 'command').command).toBe('insert-below');
    expect(commandForKey(key('m'), 'command').command).toBe('to-markdown');
    expect(commandForKey(key('y'), 'command').command).toBe('to-code');
    expect(commandForKey(key('z'), 'command').command).toBe('undo-delete');
    expect(commandForKey(key('k'), 'command').command).toBe('select-previous');
    expect(commandForKey(key('ArrowDown'), 'command').command).toBe('select-next');
  });

  it('deletes only on a second D, and any other key cancels the first', () => {
    const first = commandForKey(key('d'), 'command');
    expect(first).toEqual({ command: null, pendingDelete: true });
    expect(commandForKey(key('d'), 'command', first.pendingDelete).command).toBe('delete');
    const cancelled = commandForKey(key('j'), 'command', true);
    expect(cancelled.pendingDelete).toBe(false);
    expect(commandForKey(key('d'), 'command', cancelled.pendingDelete).command).toBeNull();
  });

  it('ignores browser shortcuts such as Ctrl+A and Cmd+Z in command mode', () => {
    expect(commandForKey(key('a', { ctrlKey: true }), 'command').command).toBeNull();
    expect(commandForKey(key('z', { metaKey: true }), 'command').command).toBeNull();
  });
});
