import type { Role } from '../../lib/roles.ts';
import { hasRole } from '../../lib/roles.ts';

/** A workspace section in the sidebar; each later feature (functions, endpoints, secrets) adds one line. */
export interface NavSection {
  path: string;
  label: string;
  icon: 'notebooks' | 'members' | 'settings' | 'audit' | 'usage' | 'secrets';
  minRole: Role;
}

export const NAV_SECTIONS: readonly NavSection[] = [
  { path: '', label: 'Notebooks', icon: 'notebooks', minRole: 'VIEWER' },
  { path: '/usage', label: 'Usage', icon: 'usage', minRole: 'VIEWER' },
  { path: '/members', label: 'Members', icon: 'members', minRole: 'VIEWER' },
  { path: '/secrets', label: 'Secrets', icon: 'secrets', minRole: 'VIEWER' },
  { path: '/settings', label: 'Settings', icon: 'settings', minRole: 'VIEWER' },
  { path: '/audit', label: 'Audit log', icon: 'audit', minRole: 'ADMIN' },
];

/** The sections a member with `role` sees. */
export function sectionsFor(role: Role): NavSection[] {
  return NAV_SECTIONS.filter((section) => hasRole(role, section.minRole));
}
