import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { NAV_SECTIONS, sectionsFor } from './nav-sections.ts';

const workspaceRoutes = join(dirname(fileURLToPath(import.meta.url)), '../../app/w/[slug]');

describe('sidebar sections', () => {
  it('link only to pages that exist, so no section is a dead link', () => {
    const missing = NAV_SECTIONS.filter(
      (section) => !existsSync(join(workspaceRoutes, section.path, 'page.tsx')),
    ).map((section) => `${section.label} (${section.path || '/'})`);
    expect(missing).toEqual([]);
  });

  it('show the audit log to admins only', () => {
    expect(sectionsFor('VIEWER').map((s) => s.label)).not.toContain('Audit log');
    expect(sectionsFor('ADMIN').map((s) => s.label)).toContain('Audit log');
  });
});
