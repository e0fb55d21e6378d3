'use client';
import {
  type QueryKey,
  type UseMutationOptions,
  type UseQueryOptions,
  useMutation,
  useQuery,
  useQueryClient,
} from '@tanstack/react-query';
import type { LucideIcon } from 'lucide-react';
import { type ReactNode, useState } from 'react';
import { hasRole } from '../../lib/roles.ts';
import { Dialog } from '../dialog.tsx';
import { SaveForm } from '../save-form.tsx';
import { ErrorAlert, Loading } from '../status.tsx';
import type { Workspace } from '../workspace/workspace-context.tsx';

/** What a picker's checklist is handed: the choice so far, how to change it, and whether it may. */
export interface PickerChoice<Choice> {
  chosen: Choice[];
  onChange(chosen: Choice[]): void;
  disabled: boolean;
}

/**
 * How a notebook's choice from the workspace (its secrets, its volumes) is read and saved: the tRPC
 * query of the current choice, the save procedure's mutation options (given the picker's onSuccess)
 * and its input for a choice.
 */
interface PickerProcedures<Row, Choice, TData, TError, TVariables, TKey extends QueryKey> {
  current: UseQueryOptions<Row[], TError, Row[], TKey> & { queryKey: TKey };
  toChoice(row: Row): Choice;
  saveOptions(callbacks: { onSuccess(): Promise<void> }): UseMutationOptions<TData, TError, TVariables>;
  toVariables(chosen: Choice[]): TVariables;
}

function NotebookPicker<Row, Choice, TData, TError, TVariables, TKey extends QueryKey>(props: {
  workspace: Workspace;
  procedures: PickerProcedures<Row, Choice, TData, TError, TVariables, TKey>;
  chosen: Choice[];
  submitLabel: string;
  children(choice: PickerChoice<Choice>): ReactNode;
  onClose(): void;
}) {
  const { procedures } = props;
  const queryClient = useQueryClient();
  const canEdit = hasRole(props.workspace.role, 'EDITOR');
  const [chosen, setChosen] = useState(props.chosen);
  const save = useMutation(
    procedures.saveOptions({
      onSuccess: async () => {
        await queryClient.invalidateQueries({ queryKey: procedures.current.queryKey });
        props.onClose();
      },
    }),
  );
  return (
    <SaveForm
      canEdit={canEdit}
      save={save}
      submitLabel={props.submitLabel}
      onSubmit={() => save.mutate(procedures.toVariables(chosen))}
      onClose={props.onClose}
    >
      {props.children({ chosen, onChange: setChosen, disabled: !canEdit })}
    </SaveForm>
  );
}

/**
 * A notebook header button for what the notebook uses of the workspace's `noun` ("Secrets",
 * "Volumes"): the count, each one `describe`d in its title, and for editors the dialog that chooses
 * them (`children` renders the checklist).
 */
export function NotebookPickerButton<Row, Choice, TData, TError, TVariables, TKey extends QueryKey>(props: {
  workspace: Workspace;
  noun: string;
  icon: LucideIcon;
  procedures: PickerProcedures<Row, Choice, TData, TError, TVariables, TKey>;
  describe(row: Row): string;
  submitLabel: string;
  children(choice: PickerChoice<Choice>): ReactNode;
}) {
  const { noun, icon: Icon } = props;
  const [open, setOpen] = useState(false);
  const current = useQuery(props.procedures.current);
  const count = current.data?.length ?? 0;
  return (
    <>
      <button
        type="button"
        className="btn btn-small"
        title={current.data?.map(props.describe).join(', ') || `No ${noun.toLowerCase()}`}
        onClick={() => setOpen(true)}
      >
        <Icon size={15} aria-hidden="true" />
        {noun}
        {count > 0 ? ` (${count})` : ''}
      </button>
      <Dialog open={open} title={`${noun} for this notebook`} onClose={() => setOpen(false)}>
        {open && current.data ? (
          <NotebookPicker
            workspace={props.workspace}
            procedures={props.procedures}
            chosen={current.data.map(props.procedures.toChoice)}
            submitLabel={props.submitLabel}
            onClose={() => setOpen(false)}
          >
            {props.children}
          </NotebookPicker>
        ) : (
          <ErrorAlert error={current.error} />
        )}
      </Dialog>
    </>
  );
}

/**
 * The workspace's `list` as a checklist: loading, its error, `empty` when there is nothing, and a
 * fieldset of one `row` each. The notebook's pickers and the deploy dialog use it.
 */
export function WorkspaceChecklist<T>(props: {
  list: { data?: T[]; isPending: boolean; error: unknown };
  empty: ReactNode;
  disabled?: boolean;
  legend: string;
  row(item: T): ReactNode;
}) {
  const { list } = props;
  return (
    <>
      {list.isPending ? <Loading /> : null}
      <ErrorAlert error={list.error} />
      {list.data?.length === 0 ? props.empty : null}
      <fieldset className="stack" disabled={props.disabled}>
        <legend className="visually-hidden">{props.legend}</legend>
        {list.data?.map((item) => props.row(item))}
      </fieldset>
    </>
  );
}
