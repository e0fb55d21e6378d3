import type { Role } from '@kiln/db';

/** Roles from most to least powerful; a role holds every right of the roles after it. */
export const ROLES = ['OWNER', 'ADMIN', 'EDITOR', 'VIEWER'] as const satisfies readonly Role[];

/** The least powerful role that may perform each action. */
const MINIMUM_ROLE = {
  'workspace.read': 'VIEWER',
  'notebook.edit': 'EDITOR',
  'notebook.run': 'EDITOR',
  'workspace.update': 'ADMIN',
  'member.manage': 'ADMIN',
  'secret.manage': 'ADMIN',
  'billing.manage': 'ADMIN',
  'audit.read': 'ADMIN',
  'workspace.delete': 'OWNER',
  'workspace.transfer': 'OWNER',
} as const satisfies Record<string, Role>;

export type Action = keyof typeof MINIMUM_ROLE;

export const ACTIONS = Object.keys(MINIMUM_ROLE) as Action[];

/** Lower rank is more powerful (OWNER is 0). */
export function roleRank(role: Role): number {
  return ROLES.indexOf(role);
}

/** Whether `role` may perform `action` in its workspace. */
export function can(role: Role, action: Action): boolean {
  return roleRank(role) <= roleRank(MINIMUM_ROLE[action]);
}

/** The least powerful role allowed to perform `action`. */
export function minimumRole(action: Action): Role {
  return MINIMUM_ROLE[action];
}
