'use client';
import { useQuery } from '@tanstack/react-query';
import dynamic from 'next/dynamic';
import Link from 'next/link';
import { useState } from 'react';
import type { Role } from '../lib/roles.ts';
import { useSignOut } from '../lib/session.ts';
import { useTRPC } from '../lib/trpc.ts';
import { Menu, MenuItem, MenuLabel, MenuLink, MenuSeparator } from './menu.tsx';
import type { Me } from './require-auth.tsx';

// The form (react-hook-form, the API's zod schemas) loads when the dialog is first opened, not
// with every page: zod alone is a sixth of a notebook page's script.
const NewWorkspaceDialog = dynamic(
  () => import('./new-workspace-dialog.tsx').then((module) => module.NewWorkspaceDialog),
  { ssr: false },
);

interface AppHeaderProps {
  me: Me;
  workspace?: { slug: string; name: string; role: Role };
}

/** The top bar: brand, workspace switcher and the user menu (workspace sections are in the sidebar). */
export function AppHeader({ me, workspace }: AppHeaderProps) {
  const trpc = useTRPC();
  const workspaces = useQuery(trpc.workspace.list.queryOptions());
  const signOut = useSignOut();
  const [creating, setCreating] = useState(false);

  return (
    <header className="app-header">
      <Link href="/" className="brand" aria-label="Kiln home">
        Kiln<span>.</span>
      </Link>
      <Menu
        label={<span className="truncate">{workspace?.name ?? 'Workspaces'}</span>}
        ariaLabel="Switch workspace"
      >
        <MenuLabel>Workspaces</MenuLabel>
        {workspaces.isPending ? <MenuLabel>Loading…</MenuLabel> : null}
        {workspaces.data?.map((w) => (
          <MenuLink key={w.id} href={`/w/${w.slug}`} current={w.slug === workspace?.slug}>
            {w.name}
            {w.personal ? <span className="badge">Personal</span> : null}
          </MenuLink>
        ))}
        <MenuSeparator />
        <MenuItem onSelect={() => setCreating(true)}>New workspace</MenuItem>
      </Menu>
      <div className="header-spacer" />
      <Menu
        label={<span className="truncate">{me.user.name || me.user.email}</span>}
        ariaLabel={`Account menu for ${me.user.email}`}
        align="right"
      >
        <MenuLabel>{me.user.email}</MenuLabel>
        <MenuLink href="/account">Account settings</MenuLink>
        <MenuItem disabled={signOut.isPending} onSelect={() => signOut.mutate()}>
          Sign out
        </MenuItem>
      </Menu>
      {creating ? <NewWorkspaceDialog open onClose={() => setCreating(false)} /> : null}
    </header>
  );
}
