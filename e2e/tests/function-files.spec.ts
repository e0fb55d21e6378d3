import { expect, type Locator, type Page, test } from '@playwright/test';
import { appUrl } from '../support/fixtures.ts';
import { createTeam } from '../support/team.ts';

// Function files run in real runsc kernels: the first run may wait for a cold start.
test.setTimeout(240_000);

const MODULE = [
  'def shout(text: str, times: int = 1):',
  '    for i in range(times):',
  '        print(f"line {i}: {text.upper()}", flush=True)',
  '    return {"length": len(text) * times}',
  '',
  'def whisper(text):',
  '    return text.lower()',
  '',
].join('\n');

function moduleEditor(page: Page): Locator {
  return page.locator('.fn-editor');
}

/** The module as the user sees it (Monaco draws lines by their `top`, with no-break spaces). */
async function moduleText(page: Page): Promise<string> {
  const lines = await moduleEditor(page)
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

/** Pastes `text` into the focused editor with Ctrl+V (typed text would be auto-indented line by line). */
async function paste(page: Page, text: string): Promise<void> {
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: appUrl('/') });
  await page.evaluate((value) => navigator.clipboard.writeText(value), text);
  await page.keyboard.press('ControlOrMeta+V');
}

async function createFunctionFile(page: Page, slug: string, name: string): Promise<string> {
  await page.goto(appUrl(`/w/${slug}`));
  await page.getByRole('button', { name: 'Create function file' }).click();
  const dialog = page.getByRole('dialog', { name: 'Create function file' });
  await dialog.getByLabel('Name').fill(name);
  await dialog.getByRole('button', { name: 'Create' }).click();
  await expect(page).toHaveURL(/\/f\/[0-9a-f-]+$/);
  await expect(moduleEditor(page).locator('.view-lines')).toBeVisible({ timeout: 60_000 });
  return page.url();
}

test('two people edit a function file live; one runs a function with arguments and both see the output', async ({
  browser,
}) => {
  const team = await createTeam(browser);
  const { alice, bob } = team;
  const url = await createFunctionFile(alice.page, team.slug, 'text_tools.py');
  await bob.page.goto(url);
  await expect(moduleEditor(bob.page).locator('.view-lines')).toBeVisible({ timeout: 60_000 });
  // It starts from the example module, the same for both.
  await expect.poll(() => moduleText(bob.page)).toContain('def greet(');

  // Each sees the other here.
  await expect(
    bob.page
      .getByRole('list', { name: 'People in this notebook' })
      .getByRole('listitem', { name: 'Alice Owner' }),
  ).toBeVisible();
  await expect(
    alice.page
      .getByRole('list', { name: 'People in this notebook' })
      .getByRole('listitem', { name: 'Bob Member' }),
  ).toBeVisible();

  // Alice rewrites the module; Bob's editor follows, and his function list with it.
  await moduleEditor(alice.page).locator('.view-lines').click();
  await alice.page.keyboard.press('ControlOrMeta+A');
  await paste(alice.page, MODULE);
  await expect.poll(() => moduleText(bob.page)).toBe(MODULE);
  const functionPicker = bob.page.getByLabel('Function', { exact: true });
  await expect(functionPicker.locator('option')).toHaveText([
    'shout(text: str, times: int = 1)',
    'whisper(text)',
  ]);

  // Bob adds a line at the end while Alice's cursor is in the file: both end with the same module.
  await moduleEditor(bob.page).locator('.view-lines').click();
  await bob.page.keyboard.press('ControlOrMeta+End');
  await bob.page.keyboard.insertText('# checked by bob\n');
  await expect.poll(() => moduleText(alice.page)).toContain('# checked by bob');

  // Bob runs shout with keyword arguments; the printed lines and the result show for both of them.
  await functionPicker.selectOption('shout');
  await bob.page.getByLabel('Keyword arguments (JSON)').fill('{"text": "kiln", "times": 3}');
  await bob.page.getByRole('button', { name: 'Run', exact: true }).click();
  for (const page of [bob.page, alice.page]) {
    const output = page.getByRole('region', { name: 'Run output' });
    await expect(output).toContainText('line 2: KILN', { timeout: 180_000 });
    await expect(output).toContainText("{'length': 12}");
    await expect(output).toContainText('shout(**{"text":"kiln","times":3})');
    await expect(output).toContainText('by Bob Member');
  }

  // Arguments that are not a JSON object are refused before anything runs.
  await bob.page.getByLabel('Keyword arguments (JSON)').fill('["kiln"]');
  await bob.page.getByRole('button', { name: 'Run', exact: true }).click();
  await expect(
    bob.page.getByRole('alert').filter({ hasText: 'Arguments must be a JSON object' }),
  ).toBeVisible();

  // A Python error of the call (an argument it does not take) shows in the output.
  await functionPicker.selectOption('whisper');
  await bob.page.getByLabel('Keyword arguments (JSON)').fill('{"txt": "X"}');
  await bob.page.getByRole('button', { name: 'Run', exact: true }).click();
  await expect(alice.page.getByRole('region', { name: 'Run output' })).toContainText(
    "unexpected keyword argument 'txt'",
    { timeout: 120_000 },
  );

  // The file sits next to the notebook in the sidebar.
  const files = alice.page.getByRole('list', { name: 'Workspace notebooks' });
  await expect(files.getByRole('link', { name: 'text_tools.py' })).toHaveAttribute(
    'href',
    new URL(url).pathname,
  );
  await expect(files.getByRole('link', { name: 'Shared analysis' })).toBeVisible();
  await team.close();
});

test('a viewer reads a function file but cannot edit or run it', async ({ browser }) => {
  const team = await createTeam(browser, 'VIEWER');
  const { alice, bob } = team;
  const url = await createFunctionFile(alice.page, team.slug, 'readonly.py');
  await bob.page.goto(url);
  await expect(moduleEditor(bob.page).locator('.view-lines')).toBeVisible({ timeout: 60_000 });
  await expect(bob.page.getByRole('note')).toContainText('View only');
  await expect(bob.page.getByRole('button', { name: 'Run', exact: true })).toHaveCount(0);
  await moduleEditor(bob.page).locator('.view-lines').click();
  await bob.page.keyboard.insertText('# not allowed\n');
  await expect.poll(() => moduleText(bob.page)).not.toContain('# not allowed');
  await expect.poll(() => moduleText(alice.page)).not.toContain('# not allowed');
  await team.close();
});

test('function files are renamed and deleted from the workspace list, and the sidebar follows', async ({
  browser,
}) => {
  const team = await createTeam(browser);
  const { alice } = team;
  await createFunctionFile(alice.page, team.slug, 'draft.py');
  await alice.page.goto(appUrl(`/w/${team.slug}`));
  const table = alice.page.getByRole('table', { name: 'Notebooks' });
  const sidebar = alice.page.getByRole('list', { name: 'Workspace notebooks' });
  await expect(table.getByRole('row', { name: /draft\.py/ })).toContainText('function');

  await alice.page.getByRole('button', { name: 'Rename draft.py' }).click();
  const rename = alice.page.getByRole('dialog', { name: 'Rename function file' });
  await rename.getByLabel('Name').fill('final.py');
  await rename.getByRole('button', { name: 'Save' }).click();
  await expect(table.getByRole('link', { name: 'final.py' })).toBeVisible();
  await expect(sidebar.getByRole('link', { name: 'final.py' })).toHaveAttribute('href', /\/f\//);

  await alice.page.getByRole('button', { name: 'Delete final.py' }).click();
  await alice.page
    .getByRole('dialog', { name: 'Delete function file?' })
    .getByRole('button', { name: 'Delete function file' })
    .click();
  await expect(table.getByRole('link', { name: 'final.py' })).toHaveCount(0);
  await expect(sidebar.getByRole('link', { name: 'final.py' })).toHaveCount(0);
  await expect(sidebar.getByRole('link', { name: 'Shared analysis' })).toBeVisible();
  await team.close();
});

test('a function file keeps its history: a saved version brings the module back', async ({ browser }) => {
  const team = await createTeam(browser);
  const { alice, bob } = team;
  const url = await createFunctionFile(alice.page, team.slug, 'versions.py');
  await expect.poll(() => moduleText(alice.page)).toContain('def greet(');
  await alice.page.getByRole('button', { name: 'History', exact: true }).click();
  const history = alice.page.getByRole('dialog', { name: 'History' });
  await history.getByLabel('Version name').fill('Example module');
  await history.getByRole('button', { name: 'Save version' }).click();
  const saved = history.getByRole('list', { name: 'Saved versions' }).getByRole('listitem').filter({
    hasText: 'Example module',
  });
  await expect(saved).toBeVisible();
  await history.getByRole('button', { name: 'Close' }).click();

  await moduleEditor(alice.page).locator('.view-lines').click();
  await alice.page.keyboard.press('ControlOrMeta+A');
  await paste(alice.page, 'def replaced():\n    return 1\n');
  await expect.poll(() => moduleText(alice.page)).toBe('def replaced():\n    return 1\n');

  // Bob watches the restore arrive as an edit.
  await bob.page.goto(url);
  await expect.poll(() => moduleText(bob.page)).toContain('def replaced(');
  await alice.page.getByRole('button', { name: 'History', exact: true }).click();
  await saved.getByRole('button', { name: 'Restore' }).click();
  await alice.page
    .getByRole('dialog', { name: 'Restore this version?' })
    .getByRole('button', { name: 'Restore version' })
    .click();
  await expect.poll(() => moduleText(bob.page)).toContain('def greet(');
  await expect.poll(() => moduleText(alice.page)).not.toContain('def replaced(');
  await team.close();
});

test('a function of a function file deploys as an endpoint that answers fetch', async ({
  browser,
  baseURL,
}) => {
  test.setTimeout(360_000);
  const team = await createTeam(browser);
  const { alice } = team;
  await createFunctionFile(alice.page, team.slug, 'geometry.py');
  await moduleEditor(alice.page).locator('.view-lines').click();
  await alice.page.keyboard.press('ControlOrMeta+A');
  await paste(
    alice.page,
    'import math\n\ndef area(r):\n    return {"area": round(math.pi * r * r, 2)}\n\ndef helper():\n    return 1\n',
  );
  await expect.poll(() => moduleText(alice.page)).toContain('def helper(');

  await alice.page
    .getByRole('region', { name: 'Functions' })
    .getByRole('button', { name: 'Deploy area' })
    .click();
  const dialog = alice.page.getByRole('dialog', { name: 'Deploy as endpoint' });
  await expect(dialog.getByLabel('Function')).toHaveValue('area');
  await expect(dialog.getByRole('list', { name: 'Imports' })).toContainText('import math', {
    timeout: 120_000,
  });
  await dialog.getByRole('textbox', { name: 'Label' }).fill('fn-area');
  await dialog.getByRole('checkbox', { name: /Public/ }).check();
  await dialog.getByRole('textbox', { name: 'Sample input (smoke test)' }).fill('{"r": 1}');
  await dialog.getByRole('button', { name: 'Deploy', exact: true }).click();
  const live = dialog.getByRole('status').filter({ hasText: 'is live' });
  await expect(live).toContainText('Version 1 is live', { timeout: 240_000 });
  await expect(live).toContainText('{"area":3.14}');

  const response = await fetch(new URL(`/e/${team.slug}/fn-area`, baseURL), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ r: 2 }),
  });
  expect(response.status).toBe(200);
  expect(await response.json()).toEqual({ area: 12.57 });
  await team.close();
});
