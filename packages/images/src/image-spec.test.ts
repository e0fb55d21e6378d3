import { describe, expect, it } from 'vitest';
import { imageKey, parseImageSpec, splitPackageList } from './image-spec.ts';

describe('image specs', () => {
  it('normalizes lists: sorted, without duplicates or spaces inside version specifiers', () => {
    expect(parseImageSpec({ debian: ['sl', 'cowsay', 'sl'], python: ['rich == 13.7.1', 'attrs'] })).toEqual({
      debian: ['cowsay', 'sl'],
      python: ['attrs', 'rich==13.7.1'],
    });
    expect(parseImageSpec({ python: ['requests[socks]>=2,<3'] }).python).toEqual(['requests[socks]>=2,<3']);
  });

  it('refuses options, URLs, paths and shell text, naming the entry', () => {
    for (const python of [
      '--index-url=http://x/',
      'https://x/y.whl',
      './local',
      'a; rm -rf /',
      'git+ssh://x',
    ]) {
      expect(() => parseImageSpec({ python: [python] })).toThrow(/not a valid entry of Python packages/);
    }
    for (const debian of ['-oAPT::x', 'Bad', 'a b', '../x', 'x']) {
      expect(() => parseImageSpec({ debian: [debian] })).toThrow(/not a valid entry of Debian packages/);
    }
    expect(() => parseImageSpec({ debian: 'sl' })).toThrow(/must be a list/);
    expect(() => parseImageSpec({ debian: Array.from({ length: 101 }, (_, i) => `p${i}`) })).toThrow(
      /At most 100/,
    );
  });

  it('keys the same packages in any order alike, and another base, package or index differently', () => {
    const spec = parseImageSpec({ debian: ['sl', 'cowsay'], python: ['attrs'] });
    const key = imageKey({ baseImageId: 'b1', spec, pipIndexUrl: 'http://i/simple/' });
    expect(
      imageKey({
        baseImageId: 'b1',
        spec: parseImageSpec({ debian: ['cowsay', 'sl'], python: ['attrs'] }),
        pipIndexUrl: 'http://i/simple/',
      }),
    ).toBe(key);
    expect(imageKey({ baseImageId: 'b2', spec, pipIndexUrl: 'http://i/simple/' })).not.toBe(key);
    expect(imageKey({ baseImageId: 'b1', spec, pipIndexUrl: 'http://other/simple/' })).not.toBe(key);
    expect(
      imageKey({ baseImageId: 'b1', spec: { ...spec, python: [] }, pipIndexUrl: 'http://i/simple/' }),
    ).not.toBe(key);
    // Without Python packages the index plays no part.
    const debianOnly = { debian: ['sl'], python: [] };
    expect(imageKey({ baseImageId: 'b1', spec: debianOnly, pipIndexUrl: 'http://a/' })).toBe(
      imageKey({ baseImageId: 'b1', spec: debianOnly }),
    );
  });

  it('splits pasted lists by lines, commas and spaces, keeping version specifiers whole', () => {
    expect(splitPackageList('sl cowsay\nrich == 13.7.1 # pinned\n\nattrs,six')).toEqual([
      'sl',
      'cowsay',
      'rich == 13.7.1',
      'attrs',
      'six',
    ]);
  });
});
