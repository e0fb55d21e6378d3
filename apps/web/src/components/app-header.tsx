'use client';
import { useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { usePathname } from 'next/navigation';
import { useState } from 'react';
import { hasRole, type Role } from '../lib/roles.ts';
import { useSignOut } from '../lib/session.ts';
import { useTRPC } from '../lib/trpc.ts';
import { Menu, MenuItem, MenuLabel, MenuLink, MenuSeparator } from './menu.tsx';
import { NewWorkspaceDialog } from './new-workspace-dialog.tsx';
import type { Me } from './require-auth.tsx';

interface AppHeaderProps {
  me: Me;
  workspace?: { slug: string; name: string; role: Role };
}

/** The top bar: brand, workspace switcher, workspace navigation and the user menu. */
export function AppHeader({ me, workspace }: AppHeaderProps) {
  const trpc = useTRPC();
  const pathname = usePathname();
  const workspaces = useQuery(trpc.workspace.list.queryOptions());
  const signOut = useSignOut();
  const [creating, setCreating] = useState(false);

  const links = workspace
    ? [
        { href: `/w/${workspace.slug}`, label: 'Notebooks' },
        { href: `/w/${workspace.slug}/members`, label: 'Members' },
        { href: `/w/${workspace.slug}/settings`, label: 'Settings' },
        ...(hasRole(workspace.role, 'ADMIN')
          ? [{ href: `/w/${workspace.slug}/audit`, label: 'Audit log' }]
          : []),
      ]
    : [];

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
      {links.length > 0 ? (
        <nav className="nav" aria-label="Workspace">
          {links.map((link) => (
            <Link key={link.href} href={link.href} aria-current={pathname === link.href ? 'page' : undefined}>
              {link.label}
            </Link>
          ))}
        </nav>
      ) : null}
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
      <NewWorkspaceDialog open={creating} onClose={() => setCreating(false)} />
    </header>
  );
}
