import { describe, expect, it } from 'vitest';
import { ansiToHtml, stripAnsi } from './ansi.ts';

describe('ansiToHtml', () => {
  it('turns ANSI colours into styled spans', () => {
    const html = ansiToHtml('\x1b[31mValueError\x1b[0m: bad');
    expect(html).toMatch(/<span style="color:rgb\(\d+,\d+,\d+\)">ValueError<\/span>: bad/);
  });

  it('escapes HTML in the text so output cannot inject markup', () => {
    const html = ansiToHtml('<img src=x onerror=alert(1)> & done');
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt; &amp; done');
  });

  it('strips escape codes for plain-text use', () => {
    expect(stripAnsi('\x1b[1;32mok\x1b[0m')).toBe('ok');
  });
});
