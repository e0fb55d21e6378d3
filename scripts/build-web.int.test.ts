import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// A clone of this repository's committed sources, so the test can write into it freely.
const repo = join(import.meta.dirname, '..');
const clone = mkdtempSync(join(tmpdir(), 'kiln-build-web-test-'));
afterAll(() => rmSync(clone, { recursive: true, force: true }));
execFileSync('git', ['clone', '--quiet', '--local', '--shared', repo, clone]);
// The script under test is this checkout's, which may be newer than the last commit.
copyFileSync(join(repo, 'scripts/build-web.sh'), join(clone, 'scripts/build-web.sh'));

const hash = () =>
  execFileSync('bash', [join(clone, 'scripts/build-web.sh'), '--print-hash'])
    .toString()
    .trim();

describe('the web build stamp', () => {
  it('ignores what a build writes, and changes with any source git knows about', () => {
    const first = hash();
    expect(first).toMatch(/^[0-9a-f]{64}$/);

    // What `next build` and `prisma generate` write must not make the next start rebuild.
    writeFileSync(join(clone, 'apps/web/next-env.d.ts'), '/// <reference types="next" />\n');
    mkdirSync(join(clone, 'apps/web/.next'), { recursive: true });
    writeFileSync(join(clone, 'apps/web/.next/BUILD_ID'), 'x');
    mkdirSync(join(clone, 'packages/db/src/generated/prisma'), { recursive: true });
    writeFileSync(join(clone, 'packages/db/src/generated/prisma/client.ts'), 'export {};\n');
    expect(hash()).toBe(first);

    // A new source file not yet committed counts, and so does an edit.
    writeFileSync(join(clone, 'apps/web/src/added.ts'), 'export const added = 1;\n');
    const withNewFile = hash();
    expect(withNewFile).not.toBe(first);
    writeFileSync(join(clone, 'packages/core/src/index.ts'), '// edited\n', { flag: 'a' });
    expect(hash()).not.toBe(withNewFile);
  });
});
