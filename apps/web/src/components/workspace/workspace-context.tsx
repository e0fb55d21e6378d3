'use client';
import { createContext, useContext } from 'react';
import type { RouterOutputs } from '../../lib/router-types.ts';
import type { Me } from '../require-auth.tsx';

export type Workspace = RouterOutputs['workspace']['get'];

const WorkspaceContext = createContext<{ workspace: Workspace; me: Me } | null>(null);

export const WorkspaceContextProvider = WorkspaceContext.Provider;

/** The workspace of the current `/w/[slug]` page and the signed-in user. */
export function useWorkspace(): { workspace: Workspace; me: Me } {
  const value = useContext(WorkspaceContext);
  if (!value) throw new Error('useWorkspace must be used under /w/[slug]');
  return value;
}
