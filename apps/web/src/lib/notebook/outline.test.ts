import { describe, expect, it } from 'vitest';
import { markdownHeadings } from './outline.ts';

describe('markdownHeadings', () => {
  it('lists ATX headings with their level, without markup, skipping code blocks', () => {
    const source = '# Data **loading**\ntext\n```python\n# not a heading\n```\n### Clean up ##\n#nospace';
    expect(markdownHeadings(source, 3)).toEqual([
      { level: 1, text: 'Data loading', cellIndex: 3, offset: 0 },
      { level: 3, text: 'Clean up', cellIndex: 3, offset: 54 },
    ]);
  });
});
