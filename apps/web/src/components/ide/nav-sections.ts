import type { Role } from '../../lib/roles.ts';
import { hasRole } from '../../lib/roles.ts';

/**
 * A workspace section in the sidebar; each later feature (functions, endpoints, secrets, usage) adds
 * one line together with its page, never before: nav-sections.test.ts fails on a link without a page.
 */
export interface NavSection {
  path: string;
  label: string;
  icon: 'notebooks' | 'members' | 'settings' | 'audit' | 'usage' | 'secrets' | 'images' | 'endpoints';
  minRole: Role;
}

export const NAV_SECTIONS: readonly NavSection[] = [
  { path: '', label: 'Notebooks', icon: 'notebooks', minRole: 'VIEWER' },
  { path: '/endpoints', label: 'Endpoints', icon: 'endpoints', minRole: 'VIEWER' },
  { path: '/members', label: 'Members', icon: 'members', minRole: 'VIEWER' },
  { path: '/secrets', label: 'Secrets', icon: 'secrets', minRole: 'VIEWER' },
  { path: '/images', label: 'Images', icon: 'images', minRole: 'VIEWER' },
  { path: '/settings', label: 'Settings', icon: 'settings', minRole: 'VIEWER' },
  { path: '/audit', label: 'Audit log', icon: 'audit', minRole: 'ADMIN' },
];

/** The sections a member with `role` sees. */
export function sectionsFor(role: Role): NavSection[] {
  return NAV_SECTIONS.filter((section) => hasRole(role, section.minRole));
}
