'use client';
import { SHORTCUTS } from '../../lib/notebook/keyboard.ts';
import { Dialog } from '../dialog.tsx';

const MODE: Record<string, string> = { both: 'Any mode', command: 'Command mode', edit: 'Edit mode' };

/** H: the notebook's keyboard shortcuts, Jupyter's command and edit modes. */
export function ShortcutsDialog({ open, onClose }: { open: boolean; onClose(): void }) {
  return (
    <Dialog open={open} title="Keyboard shortcuts" className="dialog-wide" onClose={onClose}>
      <p className="muted small">
        Press Esc to leave a cell's editor (command mode) and Enter to edit it again. On a Mac, Cmd works
        wherever Ctrl is shown.
      </p>
      <table className="table shortcuts-table" aria-label="Keyboard shortcuts">
        <thead>
          <tr>
            <th scope="col">Keys</th>
            <th scope="col">Action</th>
            <th scope="col">Where</th>
          </tr>
        </thead>
        <tbody>
          {SHORTCUTS.map((shortcut) => (
            <tr key={shortcut.command}>
              <td>
                <kbd className="kbd">{shortcut.keys}</kbd>
              </td>
              <td>{shortcut.label}</td>
              <td className="muted">{MODE[shortcut.mode]}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="dialog-actions">
        <button type="button" className="btn" onClick={onClose}>
          Close
        </button>
      </div>
    </Dialog>
  );
}
