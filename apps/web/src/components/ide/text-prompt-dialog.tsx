'use client';
import { useState } from 'react';
import { Dialog } from '../dialog.tsx';
import { TextField } from '../field.tsx';
import { ErrorAlert } from '../status.tsx';

interface TextPromptDialogProps {
  open: boolean;
  title: string;
  label: string;
  submitLabel: string;
  initial?: string;
  hint?: string;
  pending?: boolean;
  error?: unknown;
  onSubmit(value: string): void;
  onClose(): void;
}

/** Asks for one line of text (a file, folder or volume name). */
export function TextPromptDialog(props: TextPromptDialogProps) {
  return (
    <Dialog open={props.open} title={props.title} onClose={props.onClose}>
      {/* Remounted per opening so the field starts from `initial`. */}
      <PromptForm key={String(props.open)} {...props} />
    </Dialog>
  );
}

function PromptForm(props: TextPromptDialogProps) {
  const [value, setValue] = useState(props.initial ?? '');
  return (
    <form
      className="form"
      onSubmit={(event) => {
        event.preventDefault();
        if (value.trim()) props.onSubmit(value.trim());
      }}
    >
      <TextField
        label={props.label}
        hint={props.hint}
        required
        maxLength={255}
        autoFocus
        value={value}
        onChange={(event) => setValue(event.currentTarget.value)}
      />
      <ErrorAlert error={props.error} />
      <div className="dialog-actions">
        <button type="button" className="btn" onClick={props.onClose}>
          Cancel
        </button>
        <button type="submit" className="btn btn-primary" disabled={props.pending || !value.trim()}>
          {props.pending ? 'Working…' : props.submitLabel}
        </button>
      </div>
    </form>
  );
}
