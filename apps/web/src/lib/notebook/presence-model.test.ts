import { describe, expect, it } from 'vitest';
import { remoteCursorCss } from './presence-model.ts';

const peer = (clientId: number, name: string, self = false) => ({
  clientId,
  userId: `u${clientId}`,
  name,
  color: '#2563eb',
  cellId: null,
  self,
});

describe('remoteCursorCss', () => {
  it('styles every other collaborator’s selection and labels their cursor with their name', () => {
    const css = remoteCursorCss([peer(1, 'Me', true), peer(42, 'Ada')]);
    expect(css).toContain('.yRemoteSelection-42 { background-color: #2563eb40; }');
    expect(css).toContain('content: "Ada"');
    expect(css).not.toContain('-1 ');
  });

  it('escapes names so a peer cannot break out of the CSS string', () => {
    const css = remoteCursorCss([peer(7, 'Eve"; } body { display: none } .x { content: "\\')]);
    expect(css).toContain('content: "Eve\\"; } body { display: none } .x { content: \\"\\\\";');
  });
});
