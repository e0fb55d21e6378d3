import type { Caller, Team, Who } from './harness.ts';

/**
 * One procedure's row of the permission matrix: who may call it, and a valid input. A procedure
 * missing from the table fails the test. `scope: 'workspace'` means outsiders get NOT_FOUND; members
 * without the right get FORBIDDEN; signed-out callers of non-public procedures get UNAUTHORIZED.
 * The table (permission-table.ts) gathers the per-router row files that use this.
 */
export interface Row {
  scope: 'public' | 'account' | 'workspace';
  allowed: Who[];
  call: (api: Caller, team: Team, who: Who) => Promise<unknown>;
  /** Each permitted caller needs its own team (the call consumes what it acts on). */
  fresh?: boolean;
}

/** Who may call a row, by role; every row file uses these lists. */
export const SIGNED_IN: Who[] = ['owner', 'admin', 'editor', 'viewer', 'outsider'];
export const MEMBERS: Who[] = ['owner', 'admin', 'editor', 'viewer'];
export const EDITORS: Who[] = ['owner', 'admin', 'editor'];
export const ADMINS: Who[] = ['owner', 'admin'];
export const OWNERS: Who[] = ['owner'];
