'use client';
import * as Tabs from '@radix-ui/react-tabs';
import { Boxes, ChartColumn, Globe, KeyRound, NotebookText, ScrollText, Settings, Users } from 'lucide-react';
import Link from 'next/link';
import { usePathname } from 'next/navigation';
import { useState } from 'react';
import type { Workspace } from '../workspace/workspace-context.tsx';
import { FileBrowser } from './file-browser.tsx';
import { useIde } from './ide-context.tsx';
import { type NavSection, sectionsFor } from './nav-sections.ts';
import { NotebookList } from './notebook-list.tsx';
import { Outline } from './outline.tsx';

const ICONS: Record<NavSection['icon'], typeof NotebookText> = {
  notebooks: NotebookText,
  members: Users,
  settings: Settings,
  audit: ScrollText,
  usage: ChartColumn,
  secrets: KeyRound,
  images: Boxes,
  endpoints: Globe,
};

/** The left sidebar: workspace sections, then the notebooks (with search), the workspace files or the open notebook's outline. */
export function Sidebar({ workspace }: { workspace: Workspace }) {
  const pathname = usePathname();
  const ide = useIde();
  const [panel, setPanel] = useState('notebooks');
  const base = `/w/${workspace.slug}`;
  return (
    <aside className="ide-sidebar" aria-label="Sidebar">
      <nav className="side-nav" aria-label="Workspace">
        {sectionsFor(workspace.role).map((section) => {
          const href = `${base}${section.path}`;
          const Icon = ICONS[section.icon];
          return (
            <Link
              key={section.path}
              href={href}
              // Prefetching renders each section's page on the server while a notebook opens, competing
              // with the open; a section page is fetched when clicked.
              prefetch={false}
              className="side-item"
              aria-current={pathname === href ? 'page' : undefined}
            >
              <Icon size={15} aria-hidden="true" />
              {section.label}
            </Link>
          );
        })}
      </nav>
      <Tabs.Root value={panel} onValueChange={setPanel} className="side-tabs">
        <Tabs.List className="tab-list side-tab-list" aria-label="Sidebar panels">
          <Tabs.Trigger value="notebooks" className="tab">
            Notebooks
          </Tabs.Trigger>
          <Tabs.Trigger value="files" className="tab">
            Files
          </Tabs.Trigger>
          <Tabs.Trigger value="outline" className="tab">
            Outline
          </Tabs.Trigger>
        </Tabs.List>
        <Tabs.Content value="notebooks" className="side-tab-body">
          <NotebookList workspace={workspace} />
        </Tabs.Content>
        <Tabs.Content value="files" className="side-tab-body">
          <FileBrowser workspace={workspace} />
        </Tabs.Content>
        <Tabs.Content value="outline" className="side-tab-body">
          {ide ? <Outline /> : null}
        </Tabs.Content>
      </Tabs.Root>
    </aside>
  );
}
