'use client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { ChevronLeft, Download, File, Folder, NotebookText, Upload } from 'lucide-react';
import { useRouter } from 'next/navigation';
import { useRef, useState } from 'react';
import { notebookNameFromFile } from '../../lib/notebook/ipynb-file.ts';
import { hasRole } from '../../lib/roles.ts';
import { useMe } from '../../lib/session.ts';
import { useTRPC } from '../../lib/trpc.ts';
import type { Workspace } from '../workspace/workspace-context.tsx';

interface Entry {
  name: string;
  path: string;
  kind: 'file' | 'directory';
  size: number;
}

/** The volume this browser shows; named volumes (issue 15) become a choice here. */
const VOLUME = 'workspace';

async function failure(response: Response): Promise<Error> {
  const body = (await response.json().catch(() => null)) as { message?: string } | null;
  return new Error(body?.message ?? `The server answered ${response.status}`);
}

const formatSize = (bytes: number) =>
  bytes < 1024
    ? `${bytes} B`
    : bytes < 1024 ** 2
      ? `${(bytes / 1024).toFixed(1)} KB`
      : `${(bytes / 1024 ** 2).toFixed(1)} MB`;

/**
 * The workspace volume (what kernels see at /workspace): browse folders, download files, upload
 * (editors), and open an .ipynb, which imports it as a notebook and opens it in a tab.
 */
export function FileBrowser({ workspace }: { workspace: Workspace }) {
  const trpc = useTRPC();
  const me = useMe();
  const router = useRouter();
  const queryClient = useQueryClient();
  const [path, setPath] = useState('');
  const [error, setError] = useState<string | null>(null);
  const upload = useRef<HTMLInputElement>(null);
  const api = `/api/workspaces/${workspace.id}/volumes/${VOLUME}`;
  const url = (op: string, at: string) => `${api}/${op}?path=${encodeURIComponent(at)}`;
  const canWrite = hasRole(workspace.role, 'EDITOR');
  const listKey = ['workspace-files', workspace.id, VOLUME, path];
  const listing = useQuery({
    queryKey: listKey,
    queryFn: async () => {
      const response = await fetch(url('tree', path));
      if (!response.ok) throw await failure(response);
      return ((await response.json()) as { entries: Entry[] }).entries;
    },
    retry: false,
  });

  const uploadFile = useMutation({
    mutationFn: async (file: File) => {
      const response = await fetch(url('file', path ? `${path}/${file.name}` : file.name), {
        method: 'PUT',
        headers: { 'x-kiln-csrf': me.data?.csrfToken ?? '' },
        body: file,
      });
      if (!response.ok) throw await failure(response);
    },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: listKey }),
    onError: (e) => setError(e.message),
  });
  const importNotebook = useMutation(trpc.notebook.importIpynb.mutationOptions());
  const open = useMutation({
    mutationFn: async (entry: Entry) => {
      const response = await fetch(url('file', entry.path));
      if (!response.ok) throw await failure(response);
      const content = await response.text();
      return importNotebook.mutateAsync({
        workspaceId: workspace.id,
        name: notebookNameFromFile(entry.name),
        content,
      });
    },
    onSuccess: async (notebook) => {
      await queryClient.invalidateQueries({
        queryKey: trpc.notebook.list.queryKey({ workspaceId: workspace.id }),
      });
      router.push(`/w/${workspace.slug}/n/${notebook.id}`);
    },
    onError: (e) => setError(e.message),
  });

  const parent = path.split('/').slice(0, -1).join('/');
  return (
    <section className="side-panel" aria-label="Workspace files">
      <div className="side-files-bar">
        <button
          type="button"
          className="icon-button"
          aria-label="Up one folder"
          disabled={path === ''}
          onClick={() => setPath(parent)}
        >
          <ChevronLeft size={14} aria-hidden="true" />
        </button>
        <span className="truncate side-files-path" title={`/workspace/${path}`}>
          /workspace{path ? `/${path}` : ''}
        </span>
        {canWrite ? (
          <>
            <input
              ref={upload}
              type="file"
              className="visually-hidden"
              tabIndex={-1}
              aria-label="File to upload"
              onChange={(event) => {
                const file = event.currentTarget.files?.[0];
                event.currentTarget.value = '';
                setError(null);
                if (file) uploadFile.mutate(file);
              }}
            />
            <button
              type="button"
              className="icon-button"
              aria-label="Upload a file"
              title="Upload a file"
              disabled={uploadFile.isPending}
              onClick={() => upload.current?.click()}
            >
              <Upload size={14} aria-hidden="true" />
            </button>
          </>
        ) : null}
      </div>
      {listing.isPending ? <p className="muted small side-note">Loading…</p> : null}
      {listing.error ? <p className="small side-note field-error">{listing.error.message}</p> : null}
      {error ? (
        <p className="small side-note field-error" role="alert">
          {error}
        </p>
      ) : null}
      {uploadFile.isPending || open.isPending ? (
        <p className="muted small side-note" role="status">
          {uploadFile.isPending ? 'Uploading…' : 'Opening…'}
        </p>
      ) : null}
      {listing.data && listing.data.length === 0 ? (
        <p className="muted small side-note">This folder is empty.</p>
      ) : null}
      <ul className="side-list" aria-label="Files">
        {(listing.data ?? []).map((entry) => {
          const notebook = entry.kind === 'file' && entry.name.endsWith('.ipynb');
          const Icon = entry.kind === 'directory' ? Folder : notebook ? NotebookText : File;
          return (
            <li key={entry.path} className="side-file">
              <button
                type="button"
                className="side-item"
                title={entry.kind === 'file' ? `${entry.name} (${formatSize(entry.size)})` : entry.name}
                onClick={() => {
                  setError(null);
                  if (entry.kind === 'directory') setPath(entry.path);
                  else if (notebook && canWrite) open.mutate(entry);
                  else window.location.assign(url('file', entry.path));
                }}
              >
                <Icon size={14} aria-hidden="true" />
                <span className="truncate">{entry.name}</span>
              </button>
              {entry.kind === 'file' ? (
                <a
                  className="icon-button"
                  href={url('file', entry.path)}
                  download
                  aria-label={`Download ${entry.name}`}
                >
                  <Download size={13} aria-hidden="true" />
                </a>
              ) : null}
            </li>
          );
        })}
      </ul>
    </section>
  );
}
