import { describe, expect, it } from 'vitest';
import { sanitizeHtml } from './sanitize.ts';

// Server rendering runs this without a DOM; the browser path is covered by sanitize.int.test.ts.
describe('sanitizeHtml outside a browser', () => {
  it('returns nothing instead of throwing, on the first call and after', () => {
    expect(sanitizeHtml('<p>hello</p>')).toBe('');
    expect(sanitizeHtml('<a href="https://example.test">x</a>')).toBe('');
  });
});
