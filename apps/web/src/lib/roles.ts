export type Role = 'OWNER' | 'ADMIN' | 'EDITOR' | 'VIEWER';

export const ROLES: readonly Role[] = ['OWNER', 'ADMIN', 'EDITOR', 'VIEWER'];

const rank: Record<Role, number> = { VIEWER: 0, EDITOR: 1, ADMIN: 2, OWNER: 3 };

/** True when `role` has at least the rights of `minimum`. */
export function hasRole(role: Role, minimum: Role): boolean {
  return rank[role] >= rank[minimum];
}

export const roleLabel: Record<Role, string> = {
  OWNER: 'Owner',
  ADMIN: 'Admin',
  EDITOR: 'Editor',
  VIEWER: 'Viewer',
};

/** Roles `actor` may hand out or take away: only owners touch the owner role. */
export function assignableRoles(actor: Role): Role[] {
  if (!hasRole(actor, 'ADMIN')) return [];
  return actor === 'OWNER' ? [...ROLES] : ROLES.filter((r) => r !== 'OWNER');
}
