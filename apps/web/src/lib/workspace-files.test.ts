import { describe, expect, it } from 'vitest';
import { fileHref, fileIdInPath } from './workspace-files.ts';

describe('workspace file paths', () => {
  it('open notebooks under /n/ and function files under /f/', () => {
    expect(fileHref('team', { id: 'a', kind: 'notebook' })).toBe('/w/team/n/a');
    expect(fileHref('team', { id: 'b', kind: 'function' })).toBe('/w/team/f/b');
    expect(fileHref('team', { id: 'c' })).toBe('/w/team/n/c');
  });

  it('find the open file in either kind of path', () => {
    expect(fileIdInPath('team', '/w/team/n/a')).toBe('a');
    expect(fileIdInPath('team', '/w/team/f/b/extra')).toBe('b');
    expect(fileIdInPath('team', '/w/team/members')).toBeNull();
    expect(fileIdInPath('team', '/w/other/f/b')).toBeNull();
  });
});
