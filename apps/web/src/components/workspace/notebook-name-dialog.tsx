'use client';
import { useState } from 'react';
import { Dialog } from '../dialog.tsx';
import { TextField } from '../field.tsx';
import { ErrorAlert } from '../status.tsx';

interface NotebookNameDialogProps {
  open: boolean;
  title: string;
  submitLabel: string;
  initialName?: string;
  pending: boolean;
  error: unknown;
  onSubmit(name: string): void;
  onClose(): void;
}

/** Asks for a notebook name; used for both create and rename. */
export function NotebookNameDialog(props: NotebookNameDialogProps) {
  return (
    <Dialog open={props.open} title={props.title} onClose={props.onClose}>
      {/* Remounted per opening so the field starts from the current name. */}
      <NameForm key={String(props.open)} {...props} />
    </Dialog>
  );
}

function NameForm({
  submitLabel,
  initialName = '',
  pending,
  error,
  onSubmit,
  onClose,
}: NotebookNameDialogProps) {
  const [name, setName] = useState(initialName);
  return (
    <form
      className="form"
      onSubmit={(event) => {
        event.preventDefault();
        onSubmit(name.trim());
      }}
    >
      <TextField
        label="Notebook name"
        name="name"
        required
        maxLength={200}
        autoFocus
        value={name}
        onChange={(e) => setName(e.target.value)}
      />
      <ErrorAlert error={error} />
      <div className="dialog-actions">
        <button type="button" className="btn" onClick={onClose}>
          Cancel
        </button>
        <button type="submit" className="btn btn-primary" disabled={pending || !name.trim()}>
          {pending ? 'Saving…' : submitLabel}
        </button>
      </div>
    </form>
  );
}
