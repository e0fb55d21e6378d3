'use client';
import { type UseMutationOptions, useMutation } from '@tanstack/react-query';
import { type ReactNode, useState } from 'react';
import {
  DefinitionTable,
  DeleteDefinitionDialog,
  EditDefinitionDialog,
  EditDeleteActions,
} from './definition-list.tsx';

/**
 * A workspace page's list of named definitions (secrets, images) with their Edit and Delete: the table,
 * the edit dialog and the delete confirmation, and which definition each is open for. The actions
 * column shows for managers (`canManage`) and whenever every viewer has `actions` of their own.
 */
export function DefinitionManager<T extends { id: string; name: string }, TData, TError, TVariables>(props: {
  noun: string;
  label: string;
  list: { data?: T[]; isPending: boolean };
  error: unknown;
  empty: string;
  head: ReactNode;
  cells(item: T): ReactNode;
  canManage: boolean;
  /** A row's actions for every viewer, before Edit. */
  actions?(item: T): ReactNode;
  /** A row's further actions for managers, between Edit and Delete. */
  managerActions?(item: T): ReactNode;
  /** Refetches the list after an edit or a delete. */
  refresh(): Promise<unknown>;
  /** The edit form for `item`; `done` closes it and refreshes the list. */
  edit(item: T, done: () => void): ReactNode;
  /** The delete procedure's mutation options, given what this list does on success, and its input. */
  deleteOptions(callbacks: { onSuccess(): Promise<void> }): UseMutationOptions<TData, TError, TVariables>;
  deleteInput(item: T): TVariables;
  /** What deleting the definition named `name` changes. */
  deleteNote(name: string | undefined): ReactNode;
}) {
  const { noun, refresh } = props;
  const withActions = props.canManage || props.actions !== undefined;
  const [editing, setEditing] = useState<T | null>(null);
  const [deleting, setDeleting] = useState<T | null>(null);
  const remove = useMutation(
    props.deleteOptions({
      onSuccess: async () => {
        setDeleting(null);
        await refresh();
      },
    }),
  );
  return (
    <>
      <DefinitionTable
        label={props.label}
        items={props.list.data}
        pending={props.list.isPending}
        error={props.error}
        empty={props.empty}
        head={props.head}
        actions={withActions}
      >
        {(items) =>
          items.map((item) => (
            <tr key={item.id}>
              {props.cells(item)}
              {withActions ? (
                <td className="actions nowrap">
                  {props.actions?.(item)}
                  {props.canManage ? (
                    <EditDeleteActions
                      noun={noun}
                      name={item.name}
                      onEdit={() => setEditing(item)}
                      onDelete={() => {
                        remove.reset();
                        setDeleting(item);
                      }}
                    >
                      {props.managerActions?.(item)}
                    </EditDeleteActions>
                  ) : null}
                </td>
              ) : null}
            </tr>
          ))
        }
      </DefinitionTable>
      <EditDefinitionDialog noun={noun} editing={editing} onClose={() => setEditing(null)}>
        {(item) =>
          props.edit(item, () => {
            setEditing(null);
            void refresh();
          })
        }
      </EditDefinitionDialog>
      <DeleteDefinitionDialog
        noun={noun}
        deleting={deleting}
        mutation={remove}
        onConfirm={() => deleting && remove.mutate(props.deleteInput(deleting))}
        onClose={() => setDeleting(null)}
      >
        {props.deleteNote(deleting?.name)}
      </DeleteDefinitionDialog>
    </>
  );
}
