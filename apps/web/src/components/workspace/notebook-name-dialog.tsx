'use client';
import { notebookNameInput } from '@kiln/api/inputs';
import { useZodForm } from '../../lib/zod-form.ts';
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
  const form = useZodForm(notebookNameInput, { defaultValues: { name: initialName } });
  const name = form.watch('name') ?? '';
  return (
    <form className="form" noValidate onSubmit={form.handleSubmit((values) => onSubmit(values.name))}>
      <TextField
        label="Notebook name"
        required
        maxLength={200}
        autoFocus
        error={form.formState.errors.name?.message}
        {...form.register('name')}
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
