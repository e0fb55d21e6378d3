import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { verifyWorkspaceToken, workspaceToken } from './workspace-token.ts';

describe('workspaceToken', () => {
  it('mints a token only the same secret verifies, for exactly one workspace', () => {
    const workspace = randomUUID();
    const token = workspaceToken('secret-one-0123456789', workspace);
    expect(token).toMatch(new RegExp(`^kws_${workspace}\\.[A-Za-z0-9_-]{43}$`));
    expect(verifyWorkspaceToken('secret-one-0123456789', token)).toBe(workspace);
    expect(verifyWorkspaceToken('secret-two-0123456789', token)).toBeNull();
    const other = randomUUID();
    expect(verifyWorkspaceToken('secret-one-0123456789', token.replace(workspace, other))).toBeNull();
    expect(verifyWorkspaceToken('secret-one-0123456789', 'kws_nope.abc')).toBeNull();
    expect(() => workspaceToken('s', 'not-a-uuid')).toThrow(/UUID/);
  });
});
