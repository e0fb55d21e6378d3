'use client';
import type { ReactNode } from 'react';
import { ErrorAlert } from './status.tsx';

/**
 * A dialog's form that saves: its fields, the save error, and Cancel/Save for editors (Close only for
 * viewers). The notebook's secrets and volumes choices and the workspace's edit dialogs use it.
 */
export function SaveForm(props: {
  canEdit: boolean;
  save: { error: unknown; isPending: boolean };
  submitLabel: string;
  onSubmit(): void;
  onClose(): void;
  children: ReactNode;
}) {
  return (
    <form
      className="form"
      onSubmit={(event) => {
        event.preventDefault();
        props.onSubmit();
      }}
    >
      {props.children}
      <ErrorAlert error={props.save.error} />
      <div className="dialog-actions">
        <button type="button" className="btn" onClick={props.onClose}>
          {props.canEdit ? 'Cancel' : 'Close'}
        </button>
        {props.canEdit ? (
          <button type="submit" className="btn btn-primary" disabled={props.save.isPending}>
            {props.save.isPending ? 'Saving…' : props.submitLabel}
          </button>
        ) : null}
      </div>
    </form>
  );
}
