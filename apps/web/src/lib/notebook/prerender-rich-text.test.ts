import type { CellJson } from '@kiln/notebook';
import { describe, expect, it } from 'vitest';
import { PRERENDER_MAX_BYTES, prerenderRichText } from './prerender-rich-text.ts';
import { richTextKey } from './rich-text-key.ts';

const markdownCell = (source: string): CellJson => ({ cell_type: 'markdown', metadata: {}, source });
const codeCell = (data: Record<string, string>): CellJson => ({
  cell_type: 'code',
  metadata: {},
  source: 'x',
  outputs: [{ output_type: 'display_data', data, metadata: {} }],
});

// Server rendering, no DOM: what the notebook page sends with its first cells.
describe('prerenderRichText', () => {
  it('renders markdown cells with math, exact when the browser would render the same', () => {
    const source = '# Results\n\nThe loss is $\\frac{1}{n}\\sum_i x_i^2$.\n\n- [link](https://kiln.test)';
    const out = prerenderRichText([markdownCell(source)]);
    const render = out[richTextKey('markdown', source)];
    expect(render?.exact).toBe(true);
    expect(render?.html).toContain('<h1>Results</h1>');
    expect(render?.html).toContain('class="katex"');
    expect(render?.html).toContain('target="_blank"');
    // The TeX annotation the browser's sanitiser drops is not sent either.
    expect(render?.html).not.toContain('<annotation');
  });

  it('escapes raw HTML and marks the render inexact, so the browser renders the cell itself', () => {
    const source = 'Hello <b onclick="alert(1)">bold</b>';
    const render = prerenderRichText([markdownCell(source)])[richTextKey('markdown', source)];
    expect(render?.exact).toBe(false);
    expect(render?.html).not.toContain('<b ');
    expect(render?.html).toContain('&#60;b onclick');
  });

  it('renders markdown, TeX and plain HTML outputs, as the page shows them', () => {
    const out = prerenderRichText([
      codeCell({ 'text/latex': '$$E = mc^2$$', 'text/plain': 'E' }),
      codeCell({ 'text/markdown': '**done**', 'text/plain': 'done' }),
      // HTML wins over markdown in the page, so the markdown is not rendered.
      codeCell({ 'text/html': '<i>x</i>', 'text/markdown': '*x*' }),
    ]);
    expect(out[richTextKey('latex', '$$E = mc^2$$')]?.html).toContain('katex-display');
    expect(out[richTextKey('markdown', '**done**')]?.html).toContain('<strong>done</strong>');
    expect(out[richTextKey('markdown', '*x*')]).toBeUndefined();
    expect(out[richTextKey('html', '<i>x</i>')]).toEqual({ html: '<i>x</i>', exact: true });
    expect(Object.keys(out)).toHaveLength(3);
  });

  it('leaves HTML outputs the DOM-free sanitiser does not accept to the browser', () => {
    const risky = '<div><a href="https://kiln.test">link</a><script>alert(1)</script></div>';
    const out = prerenderRichText([codeCell({ 'text/html': risky, 'text/plain': 'x' })]);
    expect(out).toEqual({});
  });

  it('leaves empty cells and cells over the size cap to the browser', () => {
    const huge = `${'word '.repeat(PRERENDER_MAX_BYTES / 5)}end`;
    const out = prerenderRichText([markdownCell(''), markdownCell('   '), markdownCell(huge)]);
    expect(out).toEqual({});
  });

  it('keys renders by kind and text', () => {
    expect(richTextKey('markdown', 'a')).toBe(richTextKey('markdown', 'a'));
    expect(richTextKey('markdown', 'a')).not.toBe(richTextKey('latex', 'a'));
    expect(richTextKey('markdown', 'a')).not.toBe(richTextKey('markdown', 'b'));
  });
});
