/** One piece of TeX lifted out of markdown before it is parsed. */
export interface MathSpan {
  tex: string;
  display: boolean;
}

/** Placeholder left in the markdown; letters and digits only, so the markdown parser leaves it alone. */
export const mathToken = (index: number) => `KILNMATH${index}X`;
export const MATH_TOKEN = /KILNMATH(\d+)X/g;

/**
 * Lifts `$$...$$` and `$...$` out of markdown so the markdown parser cannot mangle TeX (`_`, `*`,
 * `\\`). Code spans and fenced blocks are left alone, as are escaped `\$` and a `$` followed by a
 * space (prices such as "$5 and $10").
 */
export function extractMath(markdown: string): { text: string; math: MathSpan[] } {
  const math: MathSpan[] = [];
  let text = '';
  let i = 0;
  const n = markdown.length;
  while (i < n) {
    const rest = markdown.slice(i);
    const fence = /^(```|~~~)[^\n]*\n[\s\S]*?(\n\1[^\n]*(\n|$)|$)/.exec(rest);
    if (fence && (i === 0 || markdown[i - 1] === '\n')) {
      text += fence[0];
      i += fence[0].length;
      continue;
    }
    const char = markdown[i] as string;
    if (char === '`') {
      const ticks = /^`+/.exec(rest)?.[0] ?? '`';
      const close = markdown.indexOf(ticks, i + ticks.length);
      const end = close < 0 ? i + ticks.length : close + ticks.length;
      text += markdown.slice(i, end);
      i = end;
      continue;
    }
    if (char === '\\' && markdown[i + 1] === '$') {
      text += '\\$';
      i += 2;
      continue;
    }
    if (char === '$') {
      const display = markdown[i + 1] === '$';
      const open = display ? 2 : 1;
      const closer = display ? '$$' : '$';
      const close = markdown.indexOf(closer, i + open);
      const tex = close < 0 ? '' : markdown.slice(i + open, close);
      const inline = !display && (tex.length === 0 || /^\s|\s$/.test(tex) || tex.includes('\n\n'));
      if (close >= 0 && tex.trim() && !inline) {
        text += mathToken(math.length);
        math.push({ tex, display });
        i = close + closer.length;
        continue;
      }
    }
    text += char;
    i++;
  }
  return { text, math };
}
