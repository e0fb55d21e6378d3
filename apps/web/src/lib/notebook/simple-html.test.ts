import { describe, expect, it } from 'vitest';
import { sanitizeSimpleHtml } from './simple-html.ts';

// What pandas' DataFrame._repr_html_ prints (pandas 2), with a missing value and a long frame's footer.
export const DATAFRAME = `<div>
<style scoped>
    .dataframe tbody tr th:only-of-type {
        vertical-align: middle;
    }

    .dataframe thead th {
        text-align: right;
    }
</style>
<table border="1" class="dataframe">
  <thead>
    <tr style="text-align: right;">
      <th></th>
      <th>city</th>
      <th>temp</th>
    </tr>
  </thead>
  <tbody>
    <tr>
      <th>0</th>
      <td>Zürich &amp; Bern</td>
      <td>&lt;NA&gt;</td>
    </tr>
    <tr>
      <th>1</th>
      <td>Oslo</td>
      <td>-3.5</td>
    </tr>
  </tbody>
</table>
<p>2 rows × 2 columns</p>
</div>`;

// The server's renderer: no DOM, so everything it keeps must be inert by construction.
describe('sanitizeSimpleHtml', () => {
  it('keeps a DataFrame table and drops its <style>', () => {
    const html = sanitizeSimpleHtml(DATAFRAME);
    expect(html).not.toBeNull();
    expect(html).toContain('<table border="1" class="dataframe">');
    expect(html).toContain('<tr style="text-align: right;">');
    expect(html).toContain('<td>Zürich &amp; Bern</td>');
    expect(html).toContain('<td>&lt;NA&gt;</td>');
    expect(html).toContain('<p>2 rows × 2 columns</p>');
    expect(html).not.toContain('style scoped');
    expect(html).not.toContain('vertical-align');
  });

  it('leaves to the browser anything with scripts, handlers, links, images, forms or comments', () => {
    for (const html of [
      '<script>alert(1)</script>',
      '<table><tr><td>1</td></tr></table>',
      '<div onclick="alert(1)">x</div>',
      '<a href="https://kiln.test">x</a>',
      '<img src="x">',
      '<form><input></form>',
      '<div><!-- c --></div>',
      '<iframe src="https://kiln.test"></iframe>',
      '<svg><rect></rect></svg>',
      '<div data-x="1">x</div>',
      '<div id="cookie">x</div>',
      '<td align="javascript:alert(1)">x</td>',
      '<div title="a><script>">x</div>',
      '<div class=a>x</div>',
      '<b><div>x</div></b>',
      '<p><table></table></p>',
      '<table>text</table>',
      '<div>x',
      '<div>x</span>',
      '<div/>x',
      'AT&T',
      '&copy; 2026',
      '&#128;',
      '<style>td{}</style><table></table>',
      '<div><style>x</style </div>',
      '<pre>\nx</pre>',
      '<x-y>z</x-y>',
      'a < b',
    ]) {
      expect(sanitizeSimpleHtml(html), html).toBeNull();
    }
  });

  it('drops a style that would fetch from outside, as the browser sanitiser does', () => {
    expect(sanitizeSimpleHtml('<div style="background:url(https://beacon.test/a.png)">x</div>')).toBe(
      '<div>x</div>',
    );
  });

  it('writes entities and attributes the way the browser serialises them', () => {
    expect(sanitizeSimpleHtml('<TD-not>')).toBeNull();
    expect(sanitizeSimpleHtml('<DIV CLASS=\'a "b"\' >&quot;&#39;&nbsp;&#x41;\r\n</DIV >')).toBe(
      '<div class="a &quot;b&quot;">"\'&nbsp;A\n</div>',
    );
  });
});
