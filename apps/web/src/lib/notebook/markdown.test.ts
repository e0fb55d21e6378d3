import { describe, expect, it } from 'vitest';
import { renderMarkdown } from './markdown.ts';

// No DOM here, as in server rendering: the escaping renderer is the only safety, so it is tested hard.
describe('renderMarkdown without a DOM (server rendering)', () => {
  it('renders markdown at its real structure, with Python blocks highlighted', () => {
    const html = renderMarkdown(
      '## Title\n\nSome **bold** and [docs](https://kiln.test/docs).\n\n```python\nimport os\n```',
    );
    expect(html).toContain('<h2');
    expect(html).toContain('<strong>bold</strong>');
    expect(html).toContain('href="https://kiln.test/docs"');
    expect(html).toContain('class="tok-keyword"');
  });

  it('escapes raw HTML and drops script URLs, so nothing in a cell runs or injects attributes', () => {
    const html = renderMarkdown(
      [
        '<img src=x onerror=alert(1)>',
        '<script>alert(2)</script>',
        '[click](javascript:alert(3))',
        '[upper](JaVaScRiPt:alert(4))',
        '![pic](javascript:alert(5))',
        '![data](data:text/html;base64,PHNjcmlwdD4=)',
        '[t](https://kiln.test "x\\" onmouseover=\\"alert(6)")',
        'inline <b onclick="alert(7)">bold</b>',
      ].join('\n\n'),
    );
    expect(html).not.toMatch(/<script|<b /i);
    // Images keep only embedded (data:image) sources: none of these loads anything.
    expect(html).not.toMatch(/<img[^>]*\ssrc=/i);
    expect(html).toContain('&#60;img src=x');
    expect(html).not.toMatch(/href="(javascript|data)/i);
    // An event attribute inside a real tag (quoted or bare); escaped quotes inside a title are text.
    expect(html).not.toMatch(/<[^>]*\son\w+=("|[a-z])/i);
    expect(html).toContain('click');
    expect(html).toContain('&#60;script&#62;');
  });

  it('opens links in a new tab without a handle on the app, as the browser sanitiser does', () => {
    const html = renderMarkdown('[docs](https://kiln.test/ä "Title")');
    expect(html).toContain(
      '<a href="https://kiln.test/%C3%A4" title="Title" rel="noopener noreferrer nofollow" target="_blank">docs</a>',
    );
  });

  it('keeps embedded images and drops task-list checkboxes (forms are not allowed)', () => {
    const pixel = 'data:image/png;base64,iVBORw0KGgo=';
    const html = renderMarkdown(`![dot](${pixel})\n\n- [x] done\n- [ ] todo`);
    expect(html).toContain(`<img src="${pixel}" alt="dot">`);
    expect(html).not.toContain('<input');
    expect(html).toContain('done');
  });
});
