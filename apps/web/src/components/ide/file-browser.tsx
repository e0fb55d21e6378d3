'use client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  ChevronLeft,
  Download,
  File,
  Folder,
  FolderPlus,
  NotebookText,
  Pencil,
  Trash2,
  Upload,
} from 'lucide-react';
import { useRouter } from 'next/navigation';
import { useRef, useState } from 'react';
import { notebookNameFromFile } from '../../lib/notebook/ipynb-file.ts';
import { hasRole } from '../../lib/roles.ts';
import { useMe } from '../../lib/session.ts';
import { useTRPC } from '../../lib/trpc.ts';
import { uploadResumable } from '../../lib/volumes/resumable-upload.ts';
import { ConfirmDialog } from '../confirm-dialog.tsx';
import type { Workspace } from '../workspace/workspace-context.tsx';
import { formatSize } from './file-size.ts';
import { TextPromptDialog } from './text-prompt-dialog.tsx';
import { type VolumeChoice, VolumePicker, WORKSPACE_VOLUME } from './volume-picker.tsx';

interface Entry {
  name: string;
  path: string;
  kind: 'file' | 'directory';
  size: number;
}

type Editing =
  | { kind: 'folder' }
  | { kind: 'rename'; entry: Entry }
  | { kind: 'delete'; entry: Entry }
  | null;

async function failure(response: Response): Promise<Error> {
  const body = (await response.json().catch(() => null)) as { message?: string } | null;
  return new Error(body?.message ?? `The server answered ${response.status}`);
}

const join = (folder: string, name: string) => (folder ? `${folder}/${name}` : name);

/**
 * A workspace volume (/workspace or a named one): browse folders, download, and for editors upload
 * (button or drag and drop, resumable, with progress), new folder, rename and delete; opening an
 * .ipynb imports it as a notebook and opens it in a tab.
 */
export function FileBrowser({ workspace }: { workspace: Workspace }) {
  const trpc = useTRPC();
  const me = useMe();
  const router = useRouter();
  const queryClient = useQueryClient();
  const [volume, setVolume] = useState<VolumeChoice>(WORKSPACE_VOLUME);
  const [path, setPath] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [progress, setProgress] = useState<{ name: string; loaded: number; total: number } | null>(null);
  const [dragging, setDragging] = useState(false);
  const [editing, setEditing] = useState<Editing>(null);
  const upload = useRef<HTMLInputElement>(null);
  const api = `/api/workspaces/${workspace.id}/volumes/${volume.id}`;
  const url = (op: string, at: string) => `${api}/${op}?path=${encodeURIComponent(at)}`;
  const csrf = me.data?.csrfToken ?? '';
  const canWrite = hasRole(workspace.role, 'EDITOR');
  const listKey = ['workspace-files', workspace.id, volume.id, path];
  const refresh = () =>
    Promise.all([
      queryClient.invalidateQueries({ queryKey: listKey }),
      queryClient.invalidateQueries({ queryKey: ['volume-usage', workspace.id, volume.id] }),
    ]);
  const listing = useQuery({
    queryKey: listKey,
    queryFn: async () => {
      const response = await fetch(url('tree', path));
      if (!response.ok) throw await failure(response);
      return ((await response.json()) as { entries: Entry[] }).entries;
    },
    retry: false,
  });

  const uploadFiles = useMutation({
    mutationFn: async (files: File[]) => {
      for (const file of files) {
        setProgress({ name: file.name, loaded: 0, total: file.size });
        await uploadResumable({ base: api, path: join(path, file.name), csrf }, file, (loaded, total) =>
          setProgress({ name: file.name, loaded, total }),
        );
      }
    },
    onSettled: async () => {
      setProgress(null);
      await refresh();
    },
    onError: (e) => setError(e.message),
  });
  const change = useMutation({
    mutationFn: async (request: { method: string; op: string; at: string; to?: string }) => {
      const target = request.to
        ? `${url(request.op, request.at)}&to=${encodeURIComponent(request.to)}`
        : url(request.op, request.at);
      const response = await fetch(target, { method: request.method, headers: { 'x-kiln-csrf': csrf } });
      if (!response.ok) throw await failure(response);
    },
    onSuccess: async () => {
      setEditing(null);
      await refresh();
    },
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

  const startUpload = (files: File[]) => {
    setError(null);
    if (files.length > 0) uploadFiles.mutate(files);
  };
  const parent = path.split('/').slice(0, -1).join('/');
  const busy = uploadFiles.isPending;
  return (
    <section
      className={dragging ? 'side-panel side-drop-target' : 'side-panel'}
      aria-label="Workspace files"
      onDragOver={(event) => {
        if (!canWrite || !event.dataTransfer.types.includes('Files')) return;
        event.preventDefault();
        setDragging(true);
      }}
      onDragLeave={() => setDragging(false)}
      onDrop={(event) => {
        if (!canWrite) return;
        event.preventDefault();
        setDragging(false);
        if (!busy) startUpload([...event.dataTransfer.files]);
      }}
    >
      <VolumePicker
        workspace={workspace}
        value={volume}
        onChange={(next) => {
          setVolume(next);
          setPath('');
          setError(null);
        }}
      />
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
        <span className="truncate side-files-path" title={`${volume.label}/${path}`}>
          {volume.label}
          {path ? `/${path}` : ''}
        </span>
        {canWrite ? (
          <>
            <input
              ref={upload}
              type="file"
              multiple
              className="visually-hidden"
              tabIndex={-1}
              aria-label="File to upload"
              onChange={(event) => {
                const files = [...(event.currentTarget.files ?? [])];
                event.currentTarget.value = '';
                startUpload(files);
              }}
            />
            <button
              type="button"
              className="icon-button"
              aria-label="New folder"
              title="New folder"
              onClick={() => setEditing({ kind: 'folder' })}
            >
              <FolderPlus size={14} aria-hidden="true" />
            </button>
            <button
              type="button"
              className="icon-button"
              aria-label="Upload a file"
              title="Upload files (or drop them here)"
              disabled={busy}
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
      {progress ? (
        <div className="side-note" role="status">
          <span className="small truncate">
            Uploading {progress.name}: {formatSize(progress.loaded)} of {formatSize(progress.total)}
          </span>
          <progress
            className="side-upload-progress"
            aria-label={`Upload of ${progress.name}`}
            max={progress.total || 1}
            value={progress.loaded}
          />
        </div>
      ) : null}
      {open.isPending ? (
        <p className="muted small side-note" role="status">
          Opening…
        </p>
      ) : null}
      {listing.data && listing.data.length === 0 ? (
        <p className="muted small side-note">
          This folder is empty.{canWrite ? ' Drop files here to upload them.' : ''}
        </p>
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
              {canWrite ? (
                <>
                  <button
                    type="button"
                    className="icon-button"
                    aria-label={`Rename ${entry.name}`}
                    onClick={() => setEditing({ kind: 'rename', entry })}
                  >
                    <Pencil size={13} aria-hidden="true" />
                  </button>
                  <button
                    type="button"
                    className="icon-button"
                    aria-label={`Delete ${entry.name}`}
                    onClick={() => setEditing({ kind: 'delete', entry })}
                  >
                    <Trash2 size={13} aria-hidden="true" />
                  </button>
                </>
              ) : null}
            </li>
          );
        })}
      </ul>
      <TextPromptDialog
        open={editing?.kind === 'folder'}
        title="New folder"
        label="Folder name"
        submitLabel="Create folder"
        pending={change.isPending}
        error={change.error}
        onSubmit={(name) => change.mutate({ method: 'POST', op: 'folder', at: join(path, name) })}
        onClose={() => setEditing(null)}
      />
      <TextPromptDialog
        open={editing?.kind === 'rename'}
        title="Rename"
        label="New name"
        submitLabel="Rename"
        initial={editing?.kind === 'rename' ? editing.entry.name : ''}
        pending={change.isPending}
        error={change.error}
        onSubmit={(name) =>
          editing?.kind === 'rename' &&
          change.mutate({ method: 'POST', op: 'move', at: editing.entry.path, to: join(path, name) })
        }
        onClose={() => setEditing(null)}
      />
      <ConfirmDialog
        open={editing?.kind === 'delete'}
        title="Delete"
        confirmLabel="Delete"
        pending={change.isPending}
        error={change.error}
        onConfirm={() =>
          editing?.kind === 'delete' &&
          change.mutate({ method: 'DELETE', op: 'file', at: editing.entry.path })
        }
        onClose={() => setEditing(null)}
      >
        Delete {editing?.kind === 'delete' ? editing.entry.name : ''}
        {editing?.kind === 'delete' && editing.entry.kind === 'directory' ? ' and everything in it' : ''}?
      </ConfirmDialog>
    </section>
  );
}
