import { describe, expect, it } from 'vitest';
import { MAX_CONCURRENT_IMPORTS, withImportSlot } from './import-gate.ts';

describe('import slots', () => {
  it('refuses imports past the limit while others run, and frees slots when they finish or fail', async () => {
    const release: Array<() => void> = [];
    const held = Array.from({ length: MAX_CONCURRENT_IMPORTS }, (_, i) =>
      withImportSlot(() => new Promise<number>((resolve) => release.push(() => resolve(i)))),
    );
    await expect(withImportSlot(async () => 'extra')).rejects.toMatchObject({
      code: 'RATE_LIMITED',
      message: expect.stringMatching(/busy importing/),
    });
    await new Promise((resolve) => setImmediate(resolve));
    for (const done of release) done();
    expect(await Promise.all(held)).toEqual([0, 1]);
    await expect(withImportSlot(async () => Promise.reject(new Error('bad file')))).rejects.toThrow(
      'bad file',
    );
    expect(await withImportSlot(async () => 'after')).toBe('after');
  });
});
