import { expect, type Page, test } from '@playwright/test';
import { appUrl } from '../support/fixtures.ts';
import { cell, focusEditor, openNotebook, setSource } from '../support/notebook.ts';
import { createTeam } from '../support/team.ts';
import { soloUser } from '../support/workspace.ts';

test.setTimeout(180_000);

/** The width of the page's content column and the colours its accent parts are drawn in. */
async function layoutOf(page: Page) {
  return page.evaluate(() => {
    const main = document.querySelector('main.main');
    const accent = getComputedStyle(document.documentElement).getPropertyValue('--color-accent').trim();
    const primary = Array.from(document.querySelectorAll('.btn-primary')).map(
      (b) => getComputedStyle(b).backgroundColor,
    );
    const current = Array.from(document.querySelectorAll('.side-item[aria-current="page"]')).map(
      (a) => getComputedStyle(a).color,
    );
    return { width: main?.getBoundingClientRect().width ?? 0, accent, primary, current };
  });
}

/** `#c2410c` as the rgb() string getComputedStyle reports. */
function rgb(hex: string): string {
  const n = Number.parseInt(hex.replace('#', ''), 16);
  return `rgb(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255})`;
}

test('every workspace page has one content width and one accent colour', async ({ browser }) => {
  const user = await soloUser(browser);
  const { page } = user;
  await page.setViewportSize({ width: 1600, height: 900 });
  const url = await user.notebook('Widths', [{ cell_type: 'code', source: 'x = 1' }]);
  const seen: Record<string, Awaited<ReturnType<typeof layoutOf>>> = {};
  for (const [name, target] of [
    ['notebooks', appUrl(`/w/${user.slug}`)],
    ['members', appUrl(`/w/${user.slug}/members`)],
    ['settings', appUrl(`/w/${user.slug}/settings`)],
    ['audit', appUrl(`/w/${user.slug}/audit`)],
    ['notebook', url],
  ] as const) {
    await page.goto(target);
    await expect(page.locator('main.main')).toBeVisible();
    await page.waitForLoadState('networkidle');
    seen[name] = await layoutOf(page);
  }
  const widths = new Set(Object.values(seen).map((s) => Math.round(s.width)));
  expect(widths.size, JSON.stringify(seen)).toBe(1);
  // On a wide screen the column is capped, not stretched to the window.
  expect([...widths][0]).toBeLessThan(1600 - 300);
  const accents = new Set(Object.values(seen).map((s) => s.accent));
  expect(accents.size).toBe(1);
  const accent = rgb([...accents][0] ?? '');
  const drawn = Object.values(seen).flatMap((s) => [...s.primary, ...s.current]);
  expect(drawn.length).toBeGreaterThan(3);
  expect(new Set(drawn)).toEqual(new Set([accent]));
  await user.context.close();
});

test('markdown code blocks are highlighted like code cells', async ({ browser }) => {
  const user = await soloUser(browser);
  const url = await user.notebook('Markdown code', [
    {
      cell_type: 'markdown',
      source: 'Load it:\n\n```python\nimport numpy as np\nfor i in range(3):\n    print(i)\n```',
    },
  ]);
  await user.page.goto(url);
  const block = cell(user.page, 1).locator('pre.code-block');
  await expect(block).toBeVisible();
  const keyword = block.locator('.tok-keyword').first();
  await expect(keyword).toHaveText('import');
  const colours = await block.evaluate((pre) => ({
    keyword: getComputedStyle(pre.querySelector('.tok-keyword') as Element).color,
    text: getComputedStyle(pre).color,
  }));
  expect(colours.keyword).not.toBe(colours.text);
  await user.context.close();
});

test("a collaborator's cursor label stays out of the code until hovered, below the line it marks", async ({
  browser,
}) => {
  const team = await createTeam(browser);
  const { alice, bob } = team;
  await openNotebook(alice.page, team.notebookUrl);
  await openNotebook(bob.page, team.notebookUrl);
  await setSource(alice.page, 1, 'value = 1\nother = 2');
  await focusEditor(bob.page, 1);
  await bob.page.keyboard.press('ControlOrMeta+Home');
  await bob.page.keyboard.type('# bob\n');
  const head = cell(alice.page, 1).locator('[class*="yRemoteSelectionHead-"]').first();
  await expect(head).toBeAttached({ timeout: 30_000 });
  const label = () =>
    head.evaluate((element) => {
      const after = getComputedStyle(element, '::after');
      return {
        content: after.content,
        opacity: after.opacity,
        top: after.top,
        height: element.getBoundingClientRect().height,
      };
    });
  const resting = await label();
  expect(resting.content).toBe('"Bob Member"');
  // Invisible while reading: it covers no code.
  expect(resting.opacity).toBe('0');
  // Placed under the cursor's line, so the editor's top edge never cuts it off.
  expect(Number.parseFloat(resting.top)).toBeCloseTo(resting.height, 0);
  await head.hover({ force: true });
  await expect.poll(async () => (await label()).opacity).toBe('1');
  await team.close();
});
