import { describe, expect, it } from 'vitest';
import { SLUG_PATTERN, slugify } from './workspaces.ts';

describe('slugify', () => {
  it('makes readable, valid addresses from any name', () => {
    expect(slugify('Deep Learning Lab')).toBe('deep-learning-lab');
    expect(slugify("Ada's workspace")).toBe('ada-s-workspace');
    expect(slugify('Café Zürich')).toBe('cafe-zurich');
    expect(slugify('日本語')).toBe('workspace');
    expect(slugify('---')).toBe('workspace');
    for (const name of ['x'.repeat(300), 'a-'.repeat(60), ' Ünïcödé 🚀 ', "'; DROP TABLE"]) {
      expect(slugify(name)).toMatch(SLUG_PATTERN);
    }
  });
});
