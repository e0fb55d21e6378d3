'use client';
import { useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { usePathname } from 'next/navigation';
import { useState } from 'react';
import { hasRole, type Role } from '../lib/roles.ts';
import { useSignOut } from '../lib/session.ts';
import { useTRPC } from '../lib/trpc.ts';
import { Menu } from './menu.tsx';
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
      <Menu label={workspace?.name ?? 'Workspaces'} ariaLabel="Switch workspace">
        {(close) => (
          <>
            <div className="menu-label">Workspaces</div>
            {workspaces.isPending ? <div className="menu-label">Loading…</div> : null}
            {workspaces.data?.map((w) => (
              <Link
                key={w.id}
                href={`/w/${w.slug}`}
                role="menuitem"
                className="menu-item"
                aria-current={w.slug === workspace?.slug ? 'true' : undefined}
                onClick={close}
              >
                {w.name}
                {w.personal ? <span className="badge">Personal</span> : null}
              </Link>
            ))}
            <hr className="menu-separator" />
            <button
              type="button"
              role="menuitem"
              className="menu-item"
              onClick={() => {
                close();
                setCreating(true);
              }}
            >
              New workspace
            </button>
          </>
        )}
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
        label={me.user.name || me.user.email}
        ariaLabel={`Account menu for ${me.user.email}`}
        align="right"
      >
        {(close) => (
          <>
            <div className="menu-label">{me.user.email}</div>
            <Link href="/account" role="menuitem" className="menu-item" onClick={close}>
              Account settings
            </Link>
            <button
              type="button"
              role="menuitem"
              className="menu-item"
              disabled={signOut.isPending}
              onClick={() => signOut.mutate()}
            >
              Sign out
            </button>
          </>
        )}
      </Menu>
      <NewWorkspaceDialog open={creating} onClose={() => setCreating(false)} />
    </header>
  );
}
