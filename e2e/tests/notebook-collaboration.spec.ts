import { expect, test } from '@playwright/test';
import { callMutation } from '../support/fixtures.ts';
import { cell, editorText, focusEditor, openNotebook, output, setSource } from '../support/notebook.ts';
import { createTeam } from '../support/team.ts';

// Kernels are real runsc sandboxes: the first run of a notebook may wait for a cold start.
test.setTimeout(180_000);

test('two people typing in the same cell at once converge on the same text', async ({ browser }) => {
  const team = await createTeam(browser);
  const { alice, bob } = team;
  await openNotebook(alice.page, team.notebookUrl);
  await openNotebook(bob.page, team.notebookUrl);

  // Each on their own line of the same cell, typing at the same time.
  await setSource(alice.page, 1, 'first = 0\nsecond = 0');
  await expect.poll(() => editorText(bob.page, 1)).toBe('first = 0\nsecond = 0');
  await cell(alice.page, 1).locator('.view-lines').click();
  await alice.page.keyboard.press('ControlOrMeta+Home');
  await alice.page.keyboard.press('End');
  await focusEditor(bob.page, 1);
  await Promise.all([
    alice.page.keyboard.type(' + 1  # alice', { delay: 20 }),
    bob.page.keyboard.type(' + 2  # bob', { delay: 20 }),
  ]);
  const expected = 'first = 0 + 1  # alice\nsecond = 0 + 2  # bob';
  await expect.poll(() => editorText(alice.page, 1)).toBe(expected);
  await expect.poll(() => editorText(bob.page, 1)).toBe(expected);

  // At the very same spot: nothing is lost or duplicated, both end with the same text, and each
  // person's keystrokes stay together (a remote insert at your cursor lands after it).
  await focusEditor(alice.page, 1);
  await focusEditor(bob.page, 1);
  await Promise.all([
    alice.page.keyboard.type('xyzw', { delay: 40 }),
    bob.page.keyboard.type('1234', { delay: 40 }),
  ]);
  await expect
    .poll(async () => {
      const [a, b] = await Promise.all([editorText(alice.page, 1), editorText(bob.page, 1)]);
      return a === b ? a : `alice: ${a} / bob: ${b}`;
    })
    .toMatch(/^first = 0 \+ 1 {2}# alice\nsecond = 0 \+ 2 {2}# bob(xyzw1234|1234xyzw)$/);
  // Each sees the other's cursor with their name.
  const people = alice.page.getByRole('list', { name: 'People in this notebook' });
  await expect(people.getByRole('listitem', { name: 'Bob Member' })).toBeVisible();
  const bobsCursor = cell(alice.page, 1).locator('[class*="yRemoteSelectionHead-"]').first();
  await expect(bobsCursor).toBeAttached();
  const label = await bobsCursor.evaluate((element) => getComputedStyle(element, '::after').content);
  expect(label).toBe('"Bob Member"');
  await team.close();
});

test('a collaborator watches output stream in while someone else runs a cell', async ({ browser }) => {
  const team = await createTeam(browser);
  const { alice, bob } = team;
  await openNotebook(alice.page, team.notebookUrl);
  await openNotebook(bob.page, team.notebookUrl);

  await setSource(
    alice.page,
    1,
    'import time\nfor i in range(8): print(f"tick {i}", flush=True); time.sleep(0.6)',
  );
  await expect.poll(() => editorText(bob.page, 1)).toContain('range(8)');
  await alice.page.getByRole('button', { name: 'Run cell 1' }).click();

  // Bob sees the run attributed to Alice, and output arriving before the cell has finished.
  await expect(cell(bob.page, 1)).toContainText(/Running · Alice Owner/, { timeout: 90_000 });
  await expect(output(bob.page, 1)).toContainText('tick 1', { timeout: 90_000 });
  expect(await output(bob.page, 1).textContent()).not.toContain('tick 7');
  await expect(output(bob.page, 1)).toContainText('tick 7', { timeout: 30_000 });
  // Consecutive prints are one stream output, not eight.
  await expect(output(bob.page, 1).getByText(/tick 0[\s\S]*tick 7/)).toHaveCount(1);
  await team.close();
});

test('closing the tab mid-run loses nothing: the reopened notebook has the complete output', async ({
  browser,
}) => {
  const team = await createTeam(browser);
  const { alice } = team;
  await openNotebook(alice.page, team.notebookUrl);
  await setSource(
    alice.page,
    1,
    'import time\nfor i in range(10): print(f"step {i}", flush=True); time.sleep(0.5)\nprint("all done")',
  );
  await alice.page.getByRole('button', { name: 'Run cell 1' }).click();
  await expect(output(alice.page, 1)).toContainText('step 1', { timeout: 90_000 });
  await alice.page.close();

  // Nobody has the notebook open while the rest of the loop runs on the server.
  await new Promise((resolve) => setTimeout(resolve, 6_000));
  const reopened = await alice.context.newPage();
  await openNotebook(reopened, team.notebookUrl);
  await expect(output(reopened, 1)).toContainText('all done', { timeout: 30_000 });
  const text = (await output(reopened, 1).textContent()) ?? '';
  for (let i = 0; i < 10; i++) expect(text).toContain(`step ${i}`);
  await team.close();
});

test('a viewer reads the notebook but can neither type nor run', async ({ browser }) => {
  const team = await createTeam(browser, 'VIEWER');
  const { alice, bob } = team;
  await openNotebook(alice.page, team.notebookUrl);
  await setSource(alice.page, 1, 'print("visible to viewers")');
  await alice.page.getByRole('button', { name: 'Run cell 1' }).click();
  await expect(output(alice.page, 1)).toContainText('visible to viewers', { timeout: 90_000 });

  // A viewer gets the code as highlighted text, never an editor: there is nothing to type into.
  await bob.page.goto(team.notebookUrl);
  const code = cell(bob.page, 1).locator('.static-code');
  await expect(code).toContainText('print("visible to viewers")', { timeout: 30_000 });
  await expect(output(bob.page, 1)).toContainText('visible to viewers');
  await expect(bob.page.getByRole('note').filter({ hasText: 'View only.' })).toBeVisible();
  await expect(bob.page.getByRole('button', { name: 'Run cell 1' })).toHaveCount(0);

  await code.click();
  await bob.page.keyboard.type('zzz');
  await expect(bob.page.locator('.monaco-editor')).toHaveCount(0);
  await expect(code).toHaveText('print("visible to viewers")');
  expect(await editorText(alice.page, 1)).toBe('print("visible to viewers")');

  const refused = await callMutation(bob.page, 'notebook.run', {
    workspaceId: team.workspaceId,
    notebookId: team.notebookId,
    mode: 'all',
  });
  expect(refused.status).toBe(403);
  await team.close();
});

test('an editor demoted while the notebook is open loses editing at once, without reloading', async ({
  browser,
}) => {
  const team = await createTeam(browser);
  const { alice, bob } = team;
  await openNotebook(bob.page, team.notebookUrl);
  await expect(bob.page.getByRole('button', { name: 'Run cell 1' })).toBeVisible();

  const demoted = await callMutation(alice.page, 'member.updateRole', {
    workspaceId: team.workspaceId,
    userId: await bob.page.evaluate(async () => {
      const me = await fetch('/api/trpc/auth.me').then((r) => r.json());
      return me.result.data.json.user.id as string;
    }),
    role: 'VIEWER',
  });
  expect(demoted.status).toBe(200);

  // The open editor goes away at once (no reload): the banner shows and the code turns read-only text.
  await expect(bob.page.getByRole('note').filter({ hasText: 'View only.' })).toBeVisible();
  await expect(bob.page.getByRole('button', { name: 'Run cell 1' })).toHaveCount(0);
  await expect(bob.page.locator('.monaco-editor')).toHaveCount(0);
  await cell(bob.page, 1).locator('.static-code').click();
  await bob.page.keyboard.type('zzz');
  await openNotebook(alice.page, team.notebookUrl);
  await expect.poll(() => editorText(alice.page, 1)).toBe('');
  await expect(cell(bob.page, 1).locator('.static-code')).not.toContainText('zzz');
  await team.close();
});
