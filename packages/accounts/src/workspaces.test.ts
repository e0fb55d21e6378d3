import { describe, expect, it } from 'vitest';
import { newWorkspaceSlug, SLUG_PATTERN, slugify } from './workspaces.ts';

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

describe('newWorkspaceSlug', () => {
  it('is always the name plus a random suffix, a valid address even for the longest names', () => {
    for (const name of ['Deep Learning Lab', 'x'.repeat(300), 'a-'.repeat(60), '日本語', "'; DROP TABLE"]) {
      const slug = newWorkspaceSlug(name);
      expect(slug).toMatch(SLUG_PATTERN);
      expect(slug).toMatch(new RegExp(`^${slugify(name)}-[a-z0-9]{6}$`));
    }
    const many = new Set(Array.from({ length: 200 }, () => newWorkspaceSlug('Lab')));
    expect(many.size).toBe(200);
  });
});
