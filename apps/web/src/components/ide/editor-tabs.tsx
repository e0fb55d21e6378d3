'use client';
import { useQuery } from '@tanstack/react-query';
import { FileCode, NotebookText, X } from 'lucide-react';
import Link from 'next/link';
import { usePathname, useRouter } from 'next/navigation';
import { useEffect, useState } from 'react';
import { useTRPC } from '../../lib/trpc.ts';
import { fileHref, fileIdInPath } from '../../lib/workspace-files.ts';
import type { Workspace } from '../workspace/workspace-context.tsx';

const storageKey = (workspaceId: string) => `kiln.open-tabs.${workspaceId}`;

function readTabs(workspaceId: string): string[] {
  try {
    const parsed: unknown = JSON.parse(localStorage.getItem(storageKey(workspaceId)) ?? '[]');
    return Array.isArray(parsed) ? parsed.filter((id): id is string => typeof id === 'string') : [];
  } catch {
    return [];
  }
}

/** Open notebooks as tabs above the editor area, kept per workspace in this browser. */
export function EditorTabs({ workspace }: { workspace: Workspace }) {
  const trpc = useTRPC();
  const pathname = usePathname();
  const router = useRouter();
  const notebooks = useQuery(trpc.notebook.list.queryOptions({ workspaceId: workspace.id }));
  const [open, setOpen] = useState<string[]>([]);
  const current = fileIdInPath(workspace.slug, pathname);

  useEffect(() => setOpen(readTabs(workspace.id)), [workspace.id]);
  useEffect(() => {
    if (!current) return;
    setOpen((tabs) => {
      if (tabs.includes(current)) return tabs;
      const next = [...tabs, current];
      localStorage.setItem(storageKey(workspace.id), JSON.stringify(next));
      return next;
    });
  }, [current, workspace.id]);

  const files = new Map((notebooks.data ?? []).map((notebook) => [notebook.id, notebook]));
  // Deleted notebooks drop out once the list has loaded.
  const shown = notebooks.data ? open.filter((id) => files.has(id)) : open.filter((id) => id === current);
  if (shown.length === 0) return <div className="editor-tabs editor-tabs-empty" />;

  const close = (id: string) => {
    const next = open.filter((tab) => tab !== id);
    setOpen(next);
    localStorage.setItem(storageKey(workspace.id), JSON.stringify(next));
    if (id === current) {
      const index = shown.indexOf(id);
      const neighbour = shown[index + 1] ?? shown[index - 1];
      const next = neighbour ? files.get(neighbour) : undefined;
      router.push(next ? fileHref(workspace.slug, next) : `/w/${workspace.slug}`);
    }
  };

  return (
    <div className="editor-tabs" role="tablist" aria-label="Open notebooks">
      {shown.map((id) => {
        const file = files.get(id);
        const name = file?.name ?? 'Notebook';
        const Icon = file?.kind === 'function' ? FileCode : NotebookText;
        const selected = id === current;
        return (
          <div key={id} className={`editor-tab${selected ? ' active' : ''}`}>
            <Link
              href={fileHref(workspace.slug, { id, kind: file?.kind })}
              // An open tab's page is rendered when switched to, not prefetched during another's open.
              prefetch={false}
              role="tab"
              aria-selected={selected}
              className="editor-tab-link"
              title={name}
            >
              <Icon size={13} aria-hidden="true" />
              <span className="truncate">{name}</span>
            </Link>
            <button
              type="button"
              className="editor-tab-close"
              aria-label={`Close ${name}`}
              onClick={() => close(id)}
            >
              <X size={13} aria-hidden="true" />
            </button>
          </div>
        );
      })}
    </div>
  );
}
