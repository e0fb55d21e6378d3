'use client';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import './ide.css';
import { type ReactNode, useState } from 'react';
import { useTRPC } from '../../lib/trpc.ts';
import { AppHeader } from '../app-header.tsx';
import type { Me } from '../require-auth.tsx';
import { TooltipProvider } from '../ui/tooltip.tsx';
import { type Workspace, WorkspaceContextProvider } from '../workspace/workspace-context.tsx';
import { BottomPanel } from './bottom-panel.tsx';
import { EditorTabs } from './editor-tabs.tsx';
import { IdeProvider } from './ide-context.tsx';
import { Sidebar } from './sidebar.tsx';

/**
 * The workspace as an IDE: header, a left sidebar (notebooks with search, outline, workspace
 * sections), open notebooks as tabs, the page, and a bottom panel for terminals and the log.
 * The server's answers for `auth.me` and `workspace.get` seed the query cache, so nothing waits.
 */
export function WorkspaceShell({
  me,
  workspace,
  children,
}: {
  me: Me;
  workspace: Workspace;
  children: ReactNode;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  useState(() => {
    queryClient.setQueryData(trpc.auth.me.queryKey(), me);
    queryClient.setQueryData(trpc.workspace.get.queryKey({ slug: workspace.slug }), workspace);
    return true;
  });
  // Later changes (a rename, a role change) come through the cache as usual.
  const current = useQuery({
    ...trpc.workspace.get.queryOptions({ slug: workspace.slug }),
    initialData: workspace,
  });
  const value = { workspace: current.data ?? workspace, me };
  return (
    <WorkspaceContextProvider value={value}>
      <TooltipProvider>
        <IdeProvider>
          <div className="ide">
            <AppHeader me={me} workspace={value.workspace} />
            <Sidebar workspace={value.workspace} />
            <div className="ide-main">
              <EditorTabs workspace={value.workspace} />
              <div className="ide-content" id="ide-content">
                <main className="main">{children}</main>
              </div>
              <BottomPanel />
            </div>
          </div>
        </IdeProvider>
      </TooltipProvider>
    </WorkspaceContextProvider>
  );
}
