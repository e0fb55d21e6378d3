import { expect, type Locator, type Page } from '@playwright/test';

/** Cell `n` (1-based) as the notebook page labels it. */
export function cell(page: Page, n: number): Locator {
  return page.getByRole('region', { name: `Cell ${n}`, exact: true });
}

export function output(page: Page, n: number): Locator {
  return page.getByRole('region', { name: `Output of cell ${n}`, exact: true });
}

/**
 * The colour the word `word` is drawn in inside cell `n`, and the keyword colour of the theme: equal
 * when the word is highlighted as a keyword. It holds whichever view draws the code, the
 * server-rendered one or Monaco after it takes over (Monaco's spans have their own class names).
 */
export async function keywordColours(
  page: Page,
  n: number,
  word: string,
): Promise<{ word: string; keyword: string }> {
  return cell(page, n).evaluate((root, word) => {
    const probe = document.createElement('span');
    probe.style.color = 'var(--tok-keyword)';
    document.body.append(probe);
    const keyword = getComputedStyle(probe).color;
    probe.remove();
    const span = Array.from(root.querySelectorAll('span')).find(
      (s) => s.childElementCount === 0 && s.textContent?.trim() === word,
    );
    return { word: span ? getComputedStyle(span).color : 'not drawn', keyword };
  }, word);
}

/** Opens a notebook and waits until cell 1's Monaco editor is mounted and synced. */
export async function openNotebook(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await expect(cell(page, 1).locator('.view-lines')).toBeVisible({ timeout: 30_000 });
}

/** The text of cell `n`'s editor as the user sees it (Monaco renders spaces as no-break spaces). */
export async function editorText(page: Page, n: number): Promise<string> {
  // Monaco draws each line as a div placed by its `top`. Lines are read one by one with textContent:
  // innerText would break a line wherever a collaborator's cursor (an absolutely placed element) sits.
  const lines = await cell(page, n)
    .locator('.view-lines .view-line')
    .evaluateAll((elements) =>
      elements
        .map((element) => ({
          top: Number.parseFloat((element as HTMLElement).style.top) || 0,
          text: element.textContent ?? '',
        }))
        .sort((a, b) => a.top - b.top)
        .map((line) => line.text),
    );
  return lines.join('\n').replace(/\u00a0/g, ' ');
}

/** Focuses cell `n`'s editor at the end of its text. */
export async function focusEditor(page: Page, n: number): Promise<void> {
  await cell(page, n).locator('.view-lines').click();
  await page.keyboard.press('ControlOrMeta+End');
}

/** Puts `code` into cell `n` as one edit (no auto-indent or bracket completion), replacing what was there. */
export async function setSource(page: Page, n: number, code: string): Promise<void> {
  await focusEditor(page, n);
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.insertText(code);
}
