'use client';
import { useState } from 'react';
import { errorMessage } from '../../lib/errors.ts';
import { saveTextFile } from '../../lib/notebook/ipynb-file.ts';
import { useTRPCClient } from '../../lib/trpc.ts';

/** "Download .ipynb": exports the live notebook as nbformat and has the browser save it. */
export function DownloadIpynbButton(props: {
  workspaceId: string;
  notebookId: string;
  onError(message: string): void;
}) {
  const client = useTRPCClient();
  const [pending, setPending] = useState(false);
  return (
    <button
      type="button"
      className="btn btn-small"
      disabled={pending}
      aria-busy={pending || undefined}
      onClick={async () => {
        setPending(true);
        try {
          const file = await client.notebook.exportIpynb.query({
            workspaceId: props.workspaceId,
            notebookId: props.notebookId,
          });
          saveTextFile(file.filename, file.content);
        } catch (error) {
          props.onError(errorMessage(error));
        } finally {
          setPending(false);
        }
      }}
    >
      Download .ipynb
    </button>
  );
}
