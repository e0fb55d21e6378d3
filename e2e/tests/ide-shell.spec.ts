import { expect, test } from '@playwright/test';
import { cell, openNotebook, output } from '../support/notebook.ts';
import { soloUser } from '../support/workspace.ts';

test('opening a notebook shifts no layout: code is visible, highlighted, before the editor mounts', async ({
  browser,
}) => {
  const user = await soloUser(browser);
  // A long training log: the first response carries only its first lines, the rest come live.
  const log = Array.from({ length: 300 }, (_, n) => `epoch ${n}: loss=${(1 / (n + 1)).toFixed(5)}\n`).join(
    '',
  );
  const cells = Array.from({ length: 40 }, (_, i) =>
    i % 5 === 0
      ? { cell_type: 'markdown' as const, source: `## Section ${i / 5 + 1}\nSome prose about step ${i}.` }
      : {
          cell_type: 'code' as const,
          source: `def step_${i}(x):\n    # step ${i}\n    return x * ${i} + len("${'x'.repeat(i)}")`,
          outputs: i % 5 === 1 ? [{ output_type: 'stream', name: 'stdout', text: log }] : [],
        },
  );
  const url = await user.notebook('Layout', cells);
  const page = await user.context.newPage();
  await page.addInitScript(() => {
    const state = { cls: 0 };
    (window as unknown as { __cls: typeof state }).__cls = state;
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries() as (PerformanceEntry & {
        value: number;
        hadRecentInput: boolean;
      })[]) {
        if (!entry.hadRecentInput) state.cls += entry.value;
      }
    }).observe({ type: 'layout-shift', buffered: true });
  });
  await page.goto(url, { waitUntil: 'commit' });
  // The server-rendered code is highlighted at once...
  await expect(cell(page, 2).locator('.tok-keyword').first()).toHaveText('def');
  // ...and Monaco takes over without moving anything, nor does the whole log arriving live.
  await expect(cell(page, 2).locator('.view-lines')).toBeVisible({ timeout: 30_000 });
  await expect(output(page, 2)).toContainText('epoch 299: loss=0.00333');
  await page.waitForTimeout(1500);
  const cls = await page.evaluate(() => (window as unknown as { __cls: { cls: number } }).__cls.cls);
  expect(cls).toBeLessThanOrEqual(0.01);
  await user.context.close();
});

test('terminals open in a resizable bottom panel beside the cells, several at once', async ({ browser }) => {
  test.setTimeout(180_000);
  const user = await soloUser(browser);
  const { page } = user;
  const url = await user.notebook('Shell', [{ cell_type: 'code', source: 'print("ready")' }]);
  await openNotebook(page, url);
  await page.getByRole('button', { name: 'Run cell 1' }).click();
  await expect(page.getByRole('region', { name: 'Output of cell 1' })).toContainText('ready', {
    timeout: 120_000,
  });

  await page.getByRole('button', { name: 'Terminal' }).click();
  const panel = page.getByRole('region', { name: 'Bottom panel' });
  await expect(panel.getByRole('tab', { name: 'Terminal 1' })).toHaveAttribute('aria-selected', 'true');
  const terminal = panel.getByRole('region', { name: 'Terminal 1' });
  await expect(terminal.locator('.xterm')).toBeVisible();
  await terminal.locator('.xterm').click();
  await page.keyboard.type('echo kiln-$((6*7))\n');
  await expect(terminal.locator('.xterm-rows')).toContainText('kiln-42', { timeout: 30_000 });

  // The panel is a row of its own: the cells' scrolling area ends where it starts.
  const content = await page.locator('#ide-content').boundingBox();
  const box = await panel.boundingBox();
  expect(content && box && content.y + content.height).toBeLessThanOrEqual((box?.y ?? 0) + 1);

  // Resize from the keyboard (the separator), then open a second terminal and close the first.
  const separator = panel.getByRole('separator', { name: 'Resize the bottom panel' });
  await separator.focus();
  await page.keyboard.press('ArrowUp');
  await page.keyboard.press('ArrowUp');
  await expect
    .poll(async () => (await panel.boundingBox())?.height ?? 0)
    .toBeGreaterThan((box?.height ?? 0) + 30);
  await panel.getByRole('button', { name: 'New terminal' }).click();
  await expect(panel.getByRole('tab', { name: 'Terminal 2' })).toHaveAttribute('aria-selected', 'true');
  await panel.getByRole('tab', { name: 'Terminal 1' }).click();
  await panel.getByRole('button', { name: 'Close Terminal 1' }).click();
  await expect(panel.getByRole('tab', { name: 'Terminal 1' })).toHaveCount(0);
  await expect(panel.getByRole('tab', { name: 'Terminal 2' })).toBeVisible();
  await panel.getByRole('button', { name: 'Hide the bottom panel' }).click();
  await expect(panel).toBeHidden();
  await user.context.close();
});

test('dark mode follows the system setting, editor included; long titles keep the header actions on screen', async ({
  browser,
}) => {
  const user = await soloUser(browser, { colorScheme: 'dark' });
  const { page } = user;
  const url = await user.notebook(`A very long notebook title ${'that keeps going '.repeat(9)}`, [
    { cell_type: 'code', source: 'x = 1' },
  ]);
  await openNotebook(page, url);
  const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  expect(background).toBe('rgb(24, 24, 27)');
  const editorBackground = await cell(page, 1)
    .locator('.monaco-editor-background')
    .evaluate((element) => getComputedStyle(element).backgroundColor);
  expect(editorBackground).toBe('rgb(30, 30, 34)');
  const share = page.getByRole('button', { name: 'Share' });
  await expect(share).toBeInViewport();
  const title = page.getByRole('heading', { level: 1 });
  const titleBox = await title.boundingBox();
  const shareBox = await share.boundingBox();
  expect((titleBox?.x ?? 0) + (titleBox?.width ?? 0)).toBeLessThanOrEqual(shareBox?.x ?? 0);
  await user.context.close();
});

test('viewers see a banner and read-only code with no editor caret', async ({ browser }) => {
  const { createTeam } = await import('../support/team.ts');
  const team = await createTeam(browser, 'VIEWER');
  await team.bob.page.goto(team.notebookUrl);
  await expect(team.bob.page.getByRole('note').filter({ hasText: 'View only.' })).toBeVisible();
  await expect(cell(team.bob.page, 1).locator('.static-code')).toBeVisible();
  await team.bob.page.waitForTimeout(1500);
  await expect(team.bob.page.locator('.monaco-editor')).toHaveCount(0);
  await team.close();
});
