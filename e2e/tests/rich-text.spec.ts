import { expect, type Page, type Response, test } from '@playwright/test';
import { cell, output } from '../support/notebook.ts';
import { soloUser } from '../support/workspace.ts';

/** A string only the markdown and TeX renderer's chunk (KaTeX) carries. */
const RENDERER_MARKER = 'KaTeX parse error';
/**
 * A string only the chunk with the output sanitiser (DOMPurify and sanitize.ts) carries: the tags it
 * forbids, in its order. Not "DOMPurify": Monaco ships its own copy, in a chunk every page loads later.
 */
const SANITIZER_MARKER = '"embed","base","meta","link"';

/** Records the page's CSP violations and script responses from its first request on. */
async function watch(page: Page) {
  await page.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { cspViolations: string[] }).cspViolations = seen;
    document.addEventListener('securitypolicyviolation', (event) =>
      seen.push(`${event.effectiveDirective} ${event.blockedURI}`),
    );
  });
  const scripts: Response[] = [];
  page.on('response', (response) => {
    if (response.request().resourceType() === 'script') scripts.push(response);
  });
  const loaded = async (marker: string) => {
    for (const response of scripts) {
      const body = await response.text().catch(() => '');
      if (body.includes(marker)) return true;
    }
    return false;
  };
  return {
    violations: () => page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations),
    async rendererLoaded() {
      return loaded(RENDERER_MARKER);
    },
    async sanitizerLoaded() {
      return loaded(SANITIZER_MARKER);
    },
  };
}

test('markdown and TeX come rendered with the page, under the CSP, without loading the renderer', async ({
  browser,
}) => {
  const user = await soloUser(browser);
  const url = await user.notebook('Rich text', [
    {
      cell_type: 'markdown',
      source:
        '# Gradient descent\n\nThe update is $\\theta \\leftarrow \\theta - \\eta \\nabla L$, with\n\n$$L = \\frac{1}{n}\\sum_i (y_i - \\hat y_i)^2$$',
    },
    {
      cell_type: 'code',
      source: 'from IPython.display import Latex\nLatex(r"$$E = mc^2$$")',
      outputs: [
        {
          output_type: 'execute_result',
          execution_count: 1,
          metadata: {},
          data: { 'text/latex': '$$E = mc^2$$', 'text/plain': '<IPython.core.display.Latex object>' },
        },
      ],
    },
  ]);
  const page = await user.context.newPage();
  const watched = await watch(page);
  const response = await page.goto(url, { waitUntil: 'commit' });
  // In the first response: the heading and the typeset math, not the TeX source.
  const html = (await response?.text()) ?? '';
  expect(html).toContain('<h1>Gradient descent</h1>');
  expect(html).toContain('katex-display');
  const markdown = cell(page, 1).locator('.markdown');
  await expect(markdown.getByRole('heading', { name: 'Gradient descent' })).toBeVisible();
  await expect(markdown.locator('.katex')).toHaveCount(2);
  await expect(markdown).not.toContainText('\\frac');
  await expect(output(page, 2).locator('.katex-display')).toBeVisible();
  // KaTeX's stylesheet and fonts load from the app itself.
  const fonts = await page.evaluate(async () => {
    await document.fonts.ready;
    let loaded = 0;
    document.fonts.forEach((font) => {
      if (font.family.includes('KaTeX') && font.status === 'loaded') loaded++;
    });
    return loaded;
  });
  expect(fonts).toBeGreaterThan(0);
  // The page becomes interactive; nothing asked for marked or KaTeX.
  await expect(cell(page, 2).locator('.view-lines')).toBeVisible({ timeout: 30_000 });
  await page.waitForTimeout(1000);
  expect(await watched.rendererLoaded()).toBe(false);
  expect(await watched.violations()).toEqual([]);
  await user.context.close();
});

test('the browser renders what the server could not render exactly, and cells as they are edited', async ({
  browser,
}) => {
  const user = await soloUser(browser);
  const url = await user.notebook('Rich text edits', [
    { cell_type: 'markdown', source: 'Plain **markdown** first.' },
    { cell_type: 'markdown', source: 'Inline HTML: <b class="shout">bold</b> and <sub>sub</sub>.' },
  ]);
  const page = await user.context.newPage();
  const watched = await watch(page);
  await page.goto(url);
  await expect(cell(page, 1).locator('.markdown strong')).toHaveText('markdown');
  // Raw HTML is escaped on the server; the browser's sanitiser keeps the safe tags.
  await expect(cell(page, 2).locator('.markdown b')).toHaveText('bold');
  await expect(cell(page, 2).locator('.markdown sub')).toHaveText('sub');
  await expect(cell(page, 2).locator('.markdown')).not.toContainText('<b');

  // Editing a cell and leaving it renders the new text, math included.
  await cell(page, 1).locator('.markdown').dblclick();
  const editor = cell(page, 1).locator('.view-lines');
  await expect(editor).toBeVisible({ timeout: 30_000 });
  await editor.click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.insertText('## Edited\n\nArea $\\pi r^2$.');
  await page.keyboard.press('Escape');
  const rendered = cell(page, 1).locator('.markdown');
  await expect(rendered.getByRole('heading', { name: 'Edited' })).toBeVisible();
  await expect(rendered.locator('.katex')).toHaveCount(1);
  expect(await watched.rendererLoaded()).toBe(true);
  expect(await watched.violations()).toEqual([]);
  await user.context.close();
});

const DATAFRAME =
  '<div>\n<style scoped>\n    .dataframe thead th {\n        text-align: right;\n    }\n</style>\n' +
  '<table border="1" class="dataframe">\n  <thead>\n    <tr style="text-align: right;">\n      <th></th>\n      <th>city</th>\n      <th>temp</th>\n    </tr>\n  </thead>\n' +
  '  <tbody>\n    <tr>\n      <th>0</th>\n      <td>Oslo</td>\n      <td>-3.5</td>\n    </tr>\n  </tbody>\n</table>\n</div>';

const htmlOutput = (html: string) => ({
  output_type: 'execute_result',
  execution_count: 1,
  metadata: {},
  data: { 'text/html': html, 'text/plain': 'frame' },
});

test('a DataFrame comes rendered with the page, and DOMPurify loads only for HTML that needs it', async ({
  browser,
}) => {
  const user = await soloUser(browser);
  const tableOnly = await user.notebook('Frames', [
    { cell_type: 'code', source: 'df', outputs: [htmlOutput(DATAFRAME)] },
  ]);
  const page = await user.context.newPage();
  const watched = await watch(page);
  const response = await page.goto(tableOnly, { waitUntil: 'commit' });
  // In the first response, sanitised: the table, not its <style>.
  const html = (await response?.text()) ?? '';
  expect(html).toContain('<table border="1" class="dataframe">');
  expect(html).toContain('<td>Oslo</td>');
  const table = output(page, 1).locator('table.dataframe');
  await expect(table).toBeVisible();
  await expect(table.locator('td').first()).toHaveText('Oslo');
  await expect(output(page, 1).locator('style')).toHaveCount(0);
  // Interactive, and neither DOMPurify nor the markdown renderer was fetched.
  await expect(cell(page, 1).locator('.view-lines')).toBeVisible({ timeout: 30_000 });
  await page.waitForTimeout(1000);
  expect(await watched.sanitizerLoaded()).toBe(false);
  expect(await watched.rendererLoaded()).toBe(false);
  expect(await watched.violations()).toEqual([]);
  await page.close();

  // A link (and a script) is more than the server's sanitiser takes: the browser loads DOMPurify for it.
  const withLink = await user.notebook('Frames with links', [
    {
      cell_type: 'code',
      source: 'HTML(...)',
      outputs: [
        htmlOutput(
          '<p>See <a href="https://kiln.test/docs">the docs</a><script>window.pwned = true</script></p>',
        ),
      ],
    },
  ]);
  const second = await user.context.newPage();
  const watchedSecond = await watch(second);
  await second.goto(withLink);
  const link = output(second, 1).getByRole('link', { name: 'the docs' });
  await expect(link).toHaveAttribute('target', '_blank');
  await expect(link).toHaveAttribute('rel', 'noopener noreferrer nofollow');
  await expect(output(second, 1).locator('script')).toHaveCount(0);
  expect(await second.evaluate(() => (window as unknown as { pwned?: boolean }).pwned)).toBeUndefined();
  expect(await watchedSecond.sanitizerLoaded()).toBe(true);
  await user.context.close();
});
