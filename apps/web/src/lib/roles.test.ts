import { describe, expect, it } from 'vitest';
import { assignableRoles, hasRole } from './roles.ts';

describe('roles', () => {
  it('orders roles viewer < editor < admin < owner', () => {
    expect(hasRole('EDITOR', 'EDITOR')).toBe(true);
    expect(hasRole('VIEWER', 'EDITOR')).toBe(false);
    expect(hasRole('OWNER', 'ADMIN')).toBe(true);
  });

  it('lets only owners assign the owner role and nobody below admin assign any', () => {
    expect(assignableRoles('OWNER')).toContain('OWNER');
    expect(assignableRoles('ADMIN')).toEqual(['ADMIN', 'EDITOR', 'VIEWER']);
    expect(assignableRoles('EDITOR')).toEqual([]);
  });
});
