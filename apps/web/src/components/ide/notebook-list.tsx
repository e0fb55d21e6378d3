'use client';
import { useQuery } from '@tanstack/react-query';
import { FileCode, NotebookText, Search } from 'lucide-react';
import Link from 'next/link';
import { usePathname } from 'next/navigation';
import { useState } from 'react';
import { useTRPC } from '../../lib/trpc.ts';
import { fileHref } from '../../lib/workspace-files.ts';
import type { Workspace } from '../workspace/workspace-context.tsx';

/** The workspace's notebooks and function files, filtered by a search as you type. */
export function NotebookList({ workspace }: { workspace: Workspace }) {
  const trpc = useTRPC();
  const pathname = usePathname();
  const notebooks = useQuery(trpc.notebook.list.queryOptions({ workspaceId: workspace.id }));
  const [query, setQuery] = useState('');
  const needle = query.trim().toLowerCase();
  const shown = (notebooks.data ?? []).filter((notebook) => notebook.name.toLowerCase().includes(needle));
  return (
    <div className="side-panel">
      <label className="side-search">
        <Search size={14} aria-hidden="true" />
        <input
          className="side-search-input"
          type="search"
          placeholder="Search notebooks"
          aria-label="Search notebooks"
          value={query}
          onChange={(event) => setQuery(event.target.value)}
        />
      </label>
      {notebooks.isPending ? <p className="muted small side-note">Loading…</p> : null}
      {notebooks.data && shown.length === 0 ? (
        <p className="muted small side-note">{needle ? 'No notebook matches.' : 'No notebooks yet.'}</p>
      ) : null}
      <ul className="side-list" aria-label="Workspace notebooks">
        {shown.map((notebook) => {
          const href = fileHref(workspace.slug, notebook);
          const Icon = notebook.kind === 'function' ? FileCode : NotebookText;
          return (
            <li key={notebook.id}>
              <Link
                href={href}
                // A prefetch renders the notebook's page (its cells included) on the server: for a list of
                // notebooks, that is work on every open for pages the user may never visit.
                prefetch={false}
                className="side-item"
                aria-current={pathname === href ? 'page' : undefined}
                title={notebook.name}
              >
                <Icon size={14} aria-label={notebook.kind === 'function' ? 'Function file' : undefined} />
                <span className="truncate">{notebook.name}</span>
              </Link>
            </li>
          );
        })}
      </ul>
    </div>
  );
}
