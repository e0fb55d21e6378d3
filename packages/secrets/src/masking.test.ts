import { describe, expect, it } from 'vitest';
import { createMasker, MASK } from './masking.ts';

describe('createMasker', () => {
  it('masks every verbatim occurrence, the longest value first', () => {
    const mask = createMasker(['hunter2-token', 'hunter2-token-extended']);
    expect(mask('a hunter2-token-extended b hunter2-token c')).toBe(`a ${MASK} b ${MASK} c`);
  });

  it('masks each line of a multi-line value on its own', () => {
    const mask = createMasker(['-----BEGIN KEY-----\nAAAABBBBCCCC\n-----END KEY-----']);
    expect(mask('line: AAAABBBBCCCC')).toBe(`line: ${MASK}`);
  });

  it('leaves text alone when no value is long enough to mask safely', () => {
    const mask = createMasker(['a', '12']);
    expect(mask('a 12 b')).toBe('a 12 b');
  });
});
