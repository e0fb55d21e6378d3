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
    expect(first).toEqual({ command: null, pending: 'd' });
    expect(commandForKey(key('d'), 'command', first.pending).command).toBe('delete');
    const cancelled = commandForKey(key('j'), 'command', 'd');
    expect(cancelled.pending).toBeNull();
    expect(commandForKey(key('d'), 'command', cancelled.pending).command).toBeNull();
  });

  it('interrupts on I, I and restarts on 0, 0; a different second key does neither', () => {
    const i = commandForKey(key('i'), 'command');
    expect(i.command).toBeNull();
    expect(commandForKey(key('i'), 'command', i.pending).command).toBe('interrupt');
    const zero = commandForKey(key('0'), 'command');
    expect(commandForKey(key('0'), 'command', zero.pending).command).toBe('restart');
    expect(commandForKey(key('0'), 'command', 'i').command).toBeNull();
    expect(commandForKey(key('i'), 'command', 'd').command).toBeNull();
  });

  it('copies, cuts and pastes cells with C, X, V and Shift+V; Shift+M merges instead of changing type', () => {
    expect(commandForKey(key('c'), 'command').command).toBe('copy');
    expect(commandForKey(key('x'), 'command').command).toBe('cut');
    expect(commandForKey(key('v'), 'command').command).toBe('paste-below');
    expect(commandForKey(key('V', { shiftKey: true }), 'command').command).toBe('paste-above');
    expect(commandForKey(key('M', { shiftKey: true }), 'command').command).toBe('merge-below');
    expect(commandForKey(key('h'), 'command').command).toBe('show-shortcuts');
  });

  it('saves a checkpoint on Ctrl+S and opens the palette on Ctrl+Shift+P in both modes', () => {
    for (const mode of ['edit', 'command'] as const) {
      expect(commandForKey(key('s', { ctrlKey: true }), mode).command).toBe('save-checkpoint');
      expect(commandForKey(key('s', { metaKey: true }), mode).command).toBe('save-checkpoint');
      expect(commandForKey(key('P', { ctrlKey: true, shiftKey: true }), mode).command).toBe(
        'command-palette',
      );
      expect(commandForKey(key('f', { ctrlKey: true }), mode).command).toBe('find');
    }
    expect(commandForKey(key('c'), 'edit').command).toBeNull();
  });

  it('ignores browser shortcuts such as Ctrl+A and Cmd+Z in command mode', () => {
    expect(commandForKey(key('a', { ctrlKey: true }), 'command').command).toBeNull();
    expect(commandForKey(key('z', { metaKey: true }), 'command').command).toBeNull();
  });
});
