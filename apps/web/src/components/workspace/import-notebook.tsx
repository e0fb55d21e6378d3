'use client';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useRouter } from 'next/navigation';
import { useRef } from 'react';
import { notebookNameFromFile } from '../../lib/notebook/ipynb-file.ts';
import { useTRPC } from '../../lib/trpc.ts';

/** The server's limit (characters of JSON text); checked here too so a huge file is not uploaded in vain. */
const MAX_IPYNB_CHARS = 25 * 1024 * 1024;

/** "Import .ipynb": picks a notebook file, creates a notebook from it and opens it. */
export function ImportNotebookButton({
  workspaceId,
  workspaceSlug,
  onError,
}: {
  workspaceId: string;
  workspaceSlug: string;
  /** Called with what went wrong (the server's message for a file that is not a notebook), or null. */
  onError(error: unknown): void;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const router = useRouter();
  const input = useRef<HTMLInputElement>(null);
  const importFile = useMutation(
    trpc.notebook.importIpynb.mutationOptions({
      onError,
      onSuccess: async (notebook) => {
        await queryClient.invalidateQueries({ queryKey: trpc.notebook.list.queryKey({ workspaceId }) });
        router.push(`/w/${workspaceSlug}/n/${notebook.id}`);
      },
    }),
  );

  async function onFile(file: File) {
    onError(null);
    const content = await file.text();
    if (content.length > MAX_IPYNB_CHARS) {
      onError(new Error(`${file.name} is larger than 25 MiB, the most a notebook import takes.`));
      return;
    }
    importFile.mutate({ workspaceId, name: notebookNameFromFile(file.name), content });
  }

  return (
    <>
      <input
        ref={input}
        type="file"
        accept=".ipynb,application/x-ipynb+json"
        className="visually-hidden"
        tabIndex={-1}
        aria-label="Notebook file to import"
        onChange={(event) => {
          const file = event.currentTarget.files?.[0];
          // Cleared so that choosing the same file again (after fixing it) fires another change.
          event.currentTarget.value = '';
          if (file) void onFile(file);
        }}
      />
      <button
        type="button"
        className="btn"
        disabled={importFile.isPending}
        aria-busy={importFile.isPending || undefined}
        onClick={() => input.current?.click()}
      >
        Import .ipynb
      </button>
      {importFile.isPending ? (
        <span className="loading loading-inline" role="status">
          <span className="spinner" aria-hidden="true" />
          Importing…
        </span>
      ) : null}
    </>
  );
}
