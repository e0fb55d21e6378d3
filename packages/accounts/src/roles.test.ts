import { describe, expect, it } from 'vitest';
import { ACTIONS, can } from './roles.ts';

describe('can(role, action)', () => {
  it('follows the permission matrix: viewer reads, editor edits and runs, admin manages, owner deletes', () => {
    const allowed = (role: 'OWNER' | 'ADMIN' | 'EDITOR' | 'VIEWER') =>
      ACTIONS.filter((action) => can(role, action)).sort();
    expect(allowed('VIEWER')).toEqual(['workspace.read']);
    expect(allowed('EDITOR')).toEqual(['notebook.edit', 'notebook.run', 'workspace.read']);
    expect(allowed('ADMIN')).toEqual([
      'audit.read',
      'billing.manage',
      'member.manage',
      'notebook.edit',
      'notebook.run',
      'secret.manage',
      'workspace.read',
      'workspace.update',
    ]);
    expect(allowed('OWNER')).toEqual([...ACTIONS].sort());
  });
});
