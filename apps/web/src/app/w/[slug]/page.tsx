'use client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { ConfirmDialog } from '../../../components/confirm-dialog.tsx';
import { ErrorAlert, Loading } from '../../../components/status.tsx';
import { ImportNotebookButton } from '../../../components/workspace/import-notebook.tsx';
import { NotebookNameDialog } from '../../../components/workspace/notebook-name-dialog.tsx';
import { Welcome } from '../../../components/workspace/welcome.tsx';
import { useWorkspace } from '../../../components/workspace/workspace-context.tsx';
import { formatDateTime } from '../../../lib/format.ts';
import { hasRole } from '../../../lib/roles.ts';
import type { RouterOutputs } from '../../../lib/router-types.ts';
import { useTRPC } from '../../../lib/trpc.ts';
import { fileHref } from '../../../lib/workspace-files.ts';

type Notebook = RouterOutputs['notebook']['list'][number];

export default function NotebooksPage() {
  const { workspace } = useWorkspace();
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const workspaceId = workspace.id;
  const notebooks = useQuery(trpc.notebook.list.queryOptions({ workspaceId }));
  const canEdit = hasRole(workspace.role, 'EDITOR');
  const [creating, setCreating] = useState(false);
  const [creatingFunction, setCreatingFunction] = useState(false);
  const [renaming, setRenaming] = useState<Notebook | null>(null);
  const [deleting, setDeleting] = useState<Notebook | null>(null);
  const [importError, setImportError] = useState<unknown>(null);

  const refresh = () =>
    queryClient.invalidateQueries({ queryKey: trpc.notebook.list.queryKey({ workspaceId }) });
  const create = useMutation(
    trpc.notebook.create.mutationOptions({
      // Creating a notebook opens it.
      onSuccess: async (notebook) => {
        await refresh();
        setCreating(false);
        router.push(`/w/${workspace.slug}/n/${notebook.id}`);
      },
    }),
  );
  const createFunction = useMutation(
    trpc.functionFile.create.mutationOptions({
      onSuccess: async (file) => {
        await refresh();
        setCreatingFunction(false);
        router.push(fileHref(workspace.slug, file));
      },
    }),
  );
  const rename = useMutation(
    trpc.notebook.rename.mutationOptions({
      onSuccess: async () => {
        await refresh();
        setRenaming(null);
      },
    }),
  );
  const remove = useMutation(
    trpc.notebook.delete.mutationOptions({
      onSuccess: async () => {
        await refresh();
        setDeleting(null);
      },
    }),
  );

  return (
    <>
      <div className="page-title">
        <h1>Notebooks</h1>
        {canEdit ? (
          <div className="row">
            <ImportNotebookButton
              workspaceId={workspaceId}
              workspaceSlug={workspace.slug}
              onError={setImportError}
            />
            <button
              type="button"
              className="btn"
              onClick={() => {
                createFunction.reset();
                setCreatingFunction(true);
              }}
            >
              Create function file
            </button>
            <button
              type="button"
              className="btn btn-primary"
              onClick={() => {
                create.reset();
                setCreating(true);
              }}
            >
              Create notebook
            </button>
          </div>
        ) : null}
      </div>
      <ErrorAlert error={importError} />

      {notebooks.isPending ? <Loading label="Loading notebooks…" /> : null}
      <ErrorAlert error={notebooks.error} />
      {notebooks.data?.length === 0 ? (
        canEdit ? (
          <Welcome
            workspaceId={workspaceId}
            workspaceSlug={workspace.slug}
            onCreateEmpty={() => {
              create.reset();
              setCreating(true);
            }}
          />
        ) : (
          <div className="empty">No notebooks in this workspace yet.</div>
        )
      ) : null}
      {notebooks.data && notebooks.data.length > 0 ? (
        <table className="table" aria-label="Notebooks">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Last updated</th>
              {canEdit ? (
                <th scope="col" className="actions">
                  <span className="visually-hidden">Actions</span>
                </th>
              ) : null}
            </tr>
          </thead>
          <tbody>
            {notebooks.data.map((notebook) => (
              <tr key={notebook.id}>
                <td>
                  <Link href={fileHref(workspace.slug, notebook)}>{notebook.name}</Link>
                  {notebook.kind === 'function' ? <span className="badge fn-badge">function</span> : null}
                </td>
                <td className="muted">{formatDateTime(notebook.updatedAt)}</td>
                {canEdit ? (
                  <td className="actions">
                    <button
                      type="button"
                      className="btn btn-small"
                      aria-label={`Rename ${notebook.name}`}
                      onClick={() => {
                        rename.reset();
                        setRenaming(notebook);
                      }}
                    >
                      Rename
                    </button>
                    <button
                      type="button"
                      className="btn btn-small btn-danger"
                      aria-label={`Delete ${notebook.name}`}
                      onClick={() => {
                        remove.reset();
                        setDeleting(notebook);
                      }}
                    >
                      Delete
                    </button>
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}

      <NotebookNameDialog
        open={creating}
        title="Create notebook"
        submitLabel="Create"
        pending={create.isPending}
        error={create.error}
        onSubmit={(name) => create.mutate({ workspaceId, name })}
        onClose={() => setCreating(false)}
      />
      <NotebookNameDialog
        open={creatingFunction}
        title="Create function file"
        submitLabel="Create"
        pending={createFunction.isPending}
        error={createFunction.error}
        onSubmit={(name) => createFunction.mutate({ workspaceId, name })}
        onClose={() => setCreatingFunction(false)}
      />
      <NotebookNameDialog
        open={renaming !== null}
        title={renaming?.kind === 'function' ? 'Rename function file' : 'Rename notebook'}
        submitLabel="Save"
        initialName={renaming?.name}
        pending={rename.isPending}
        error={rename.error}
        onSubmit={(name) => renaming && rename.mutate({ workspaceId, notebookId: renaming.id, name })}
        onClose={() => setRenaming(null)}
      />
      <ConfirmDialog
        open={deleting !== null}
        title={deleting?.kind === 'function' ? 'Delete function file?' : 'Delete notebook?'}
        confirmLabel={deleting?.kind === 'function' ? 'Delete function file' : 'Delete notebook'}
        pending={remove.isPending}
        error={remove.error}
        onConfirm={() => deleting && remove.mutate({ workspaceId, notebookId: deleting.id })}
        onClose={() => setDeleting(null)}
      >
        <p>
          <strong>{deleting?.name}</strong> and its contents will be deleted. This cannot be undone.
        </p>
      </ConfirmDialog>
    </>
  );
}
