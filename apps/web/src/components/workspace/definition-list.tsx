'use client';
import type { ReactNode } from 'react';
import { ConfirmDialog } from '../confirm-dialog.tsx';
import { Dialog } from '../dialog.tsx';
import { TextField } from '../field.tsx';
import { SaveForm } from '../save-form.tsx';
import { ErrorAlert, Loading } from '../status.tsx';

/*
 * The pieces of a workspace page that lists named definitions (secrets, images): a card to define a
 * new one, the table with its Edit and Delete actions, the edit dialog's form and the delete
 * confirmation. `noun` names the kind in every label ("New secret", "Edit image x", "Delete secret?").
 */

/** What a create or save shows while it runs and when it fails (a react-query mutation). */
interface Pending {
  isPending: boolean;
  error: unknown;
}

/** The "New …" card: a name, the kind's own fields (`children`), the error and the submit button. */
export function NewDefinitionCard(props: {
  noun: string;
  nameLabel: string;
  nameHint?: string;
  name: string;
  onName(name: string): void;
  mutation: Pending;
  submitLabel: string;
  pendingLabel: string;
  onSubmit(): void;
  children: ReactNode;
}) {
  const headingId = `new-${props.noun}-heading`;
  return (
    <section className="card" aria-labelledby={headingId}>
      <h2 id={headingId}>New {props.noun}</h2>
      <form
        className="form"
        onSubmit={(event) => {
          event.preventDefault();
          props.onSubmit();
        }}
      >
        <TextField
          label={props.nameLabel}
          hint={props.nameHint}
          required
          maxLength={63}
          value={props.name}
          onChange={(e) => props.onName(e.target.value)}
        />
        {props.children}
        <ErrorAlert error={props.mutation.error} />
        <div>
          <button
            type="submit"
            className="btn btn-primary"
            disabled={props.mutation.isPending || !props.name.trim()}
          >
            {props.mutation.isPending ? props.pendingLabel : props.submitLabel}
          </button>
        </div>
      </form>
    </section>
  );
}

/**
 * The list: loading, its error, an empty note, or the table (`head` cells, an actions column when
 * `actions`, then `children` rows).
 */
export function DefinitionTable<T>(props: {
  label: string;
  items: T[] | undefined;
  pending: boolean;
  error: unknown;
  empty: string;
  head: ReactNode;
  actions: boolean;
  children(items: T[]): ReactNode;
}) {
  const { items } = props;
  return (
    <>
      {props.pending ? <Loading /> : null}
      <ErrorAlert error={props.error} />
      {items?.length === 0 ? <div className="empty">{props.empty}</div> : null}
      {items && items.length > 0 ? (
        <table className="table" aria-label={props.label}>
          <thead>
            <tr>
              {props.head}
              {props.actions ? (
                <th scope="col" className="actions">
                  <span className="visually-hidden">Actions</span>
                </th>
              ) : null}
            </tr>
          </thead>
          <tbody>{props.children(items)}</tbody>
        </table>
      ) : null}
    </>
  );
}

/** Names as code chips in a cell (a secret's variables, an image's packages). */
export function CodeChips(props: { names: string[] }) {
  return (
    <>
      {props.names.map((name) => (
        <code key={name} className="secret-key">
          {name}{' '}
        </code>
      ))}
    </>
  );
}

/** A row's Edit and Delete buttons; `children` (further actions) stand between them. */
export function EditDeleteActions(props: {
  noun: string;
  name: string;
  onEdit(): void;
  onDelete(): void;
  children?: ReactNode;
}) {
  return (
    <>
      <button
        type="button"
        className="btn btn-small"
        aria-label={`Edit ${props.noun} ${props.name}`}
        onClick={props.onEdit}
      >
        Edit
      </button>{' '}
      {props.children}
      <button
        type="button"
        className="btn btn-small btn-danger"
        aria-label={`Delete ${props.noun} ${props.name}`}
        onClick={props.onDelete}
      >
        Delete
      </button>
    </>
  );
}

/** The edit dialog, open while `editing` is set; `children` renders the kind's form for it. */
export function EditDefinitionDialog<T extends { name: string }>(props: {
  noun: string;
  editing: T | null;
  onClose(): void;
  children(editing: T): ReactNode;
}) {
  return (
    <Dialog
      open={props.editing !== null}
      title={`Edit ${props.noun} ${props.editing?.name ?? ''}`}
      onClose={props.onClose}
    >
      {props.editing ? props.children(props.editing) : null}
    </Dialog>
  );
}

/** The edit dialog's form: what saving does (`note`), the kind's fields, the error, Cancel and save. */
export function EditDefinitionForm(props: {
  note: ReactNode;
  mutation: Pending;
  submitLabel: string;
  onSubmit(): void;
  onCancel(): void;
  children: ReactNode;
}) {
  return (
    <SaveForm
      canEdit
      save={props.mutation}
      submitLabel={props.submitLabel}
      onSubmit={props.onSubmit}
      onClose={props.onCancel}
    >
      <p className="muted small">{props.note}</p>
      {props.children}
    </SaveForm>
  );
}

/** Asks before deleting `deleting`; `children` says what deleting it changes. */
export function DeleteDefinitionDialog(props: {
  noun: string;
  deleting: { name: string } | null;
  mutation: Pending;
  onConfirm(): void;
  onClose(): void;
  children: ReactNode;
}) {
  return (
    <ConfirmDialog
      open={props.deleting !== null}
      title={`Delete ${props.noun}?`}
      confirmLabel={`Delete ${props.noun}`}
      pending={props.mutation.isPending}
      error={props.mutation.error}
      onConfirm={props.onConfirm}
      onClose={props.onClose}
    >
      {props.children}
    </ConfirmDialog>
  );
}
