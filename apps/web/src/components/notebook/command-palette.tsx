'use client';
import { Command } from 'cmdk';

/** One entry of the command palette. */
export interface PaletteAction {
  id: string;
  label: string;
  group: string;
  keys?: string;
  disabled?: boolean;
  run(): void;
}

/** Ctrl+Shift+P: every notebook action by name, filtered as you type, run with Enter. */
export function CommandPalette(props: { open: boolean; actions: readonly PaletteAction[]; onClose(): void }) {
  const groups = [...new Set(props.actions.map((action) => action.group))];
  return (
    <Command.Dialog
      open={props.open}
      onOpenChange={(open) => (open ? undefined : props.onClose())}
      label="Command palette"
      overlayClassName="dialog-overlay"
      contentClassName="dialog palette"
      loop
    >
      <Command.Input className="input palette-input" placeholder="Type a command…" aria-label="Command" />
      <Command.List className="palette-list">
        <Command.Empty className="muted small palette-empty">No matching command.</Command.Empty>
        {groups.map((group) => (
          <Command.Group key={group} heading={group} className="palette-group">
            {props.actions
              .filter((action) => action.group === group)
              .map((action) => (
                <Command.Item
                  key={action.id}
                  value={`${action.group} ${action.label}`}
                  disabled={action.disabled}
                  className="palette-item"
                  onSelect={() => {
                    props.onClose();
                    action.run();
                  }}
                >
                  <span>{action.label}</span>
                  {action.keys ? <kbd className="menu-shortcut">{action.keys}</kbd> : null}
                </Command.Item>
              ))}
          </Command.Group>
        ))}
      </Command.List>
    </Command.Dialog>
  );
}
