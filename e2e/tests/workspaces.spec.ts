import { expect, test } from '@playwright/test';
import { appUrl, callMutation, signUp, uniqueEmail } from '../support/fixtures.ts';

test('an invited editor sees the notebook, and loses the right to create when made a viewer', async ({
  browser,
}) => {
  const alice = { name: 'Alice Owner', email: uniqueEmail('alice'), password: 'correct horse battery' };
  const bob = { name: 'Bob Member', email: uniqueEmail('bob'), password: 'staple battery horse' };

  const aliceContext = await browser.newContext();
  const a = await aliceContext.newPage();
  await signUp(a, alice);

  // A creates a team workspace and a notebook in it.
  await a
    .getByRole('button', { name: /workspace/i })
    .first()
    .click();
  await a
    .getByRole('menuitem', { name: 'New workspace' })
    .or(a.getByRole('button', { name: 'New workspace' }))
    .first()
    .click();
  await a.getByLabel('Workspace name').fill('Research Lab');
  await a.getByRole('button', { name: 'Create workspace' }).click();
  await expect(a).toHaveURL(/\/w\/research-lab/);
  await a.getByRole('button', { name: 'Create notebook' }).click();
  await a.getByLabel('Notebook name').fill('Protein folding');
  await a.getByRole('button', { name: 'Create', exact: true }).click();
  // Creating a notebook opens it.
  await expect(a.getByRole('heading', { name: 'Protein folding' })).toBeVisible();

  // A invites B as an editor and copies the link the page shows.
  await a.getByRole('link', { name: 'Members' }).click();
  await a.getByLabel('Email').fill(bob.email);
  await a.getByLabel('Role', { exact: true }).selectOption('EDITOR');
  await a.getByRole('button', { name: 'Invite' }).click();
  const inviteLink = await a.getByLabel('Invitation link').inputValue();
  expect(inviteLink).toMatch(/\/invite\/[A-Za-z0-9_-]{20,}/);

  // B signs up in a second browser context, accepts and sees the notebook with editing rights.
  const bobContext = await browser.newContext();
  const b = await bobContext.newPage();
  await signUp(b, bob);
  await b.goto(inviteLink.replace(/^https?:\/\/[^/]+/, appUrl('/').replace(/\/$/, '')));
  await expect(b.getByRole('heading', { name: 'Join Research Lab' })).toBeVisible();
  await b.getByRole('button', { name: 'Accept invitation' }).click();
  await expect(b).toHaveURL(/\/w\/research-lab/);
  await expect(b.getByRole('main').getByText('Protein folding')).toBeVisible();
  await expect(b.getByRole('button', { name: 'Create notebook' })).toBeVisible();

  // A makes B a viewer: B's create button disappears and the server refuses B's create call.
  await a.reload();
  const roleSaved = a.waitForResponse(
    (r) => r.url().includes('member.updateRole') && r.request().method() === 'POST',
  );
  await a.getByLabel(`Role for ${bob.email}`).selectOption('VIEWER');
  expect((await roleSaved).status()).toBe(200);
  await a.reload();
  await expect(a.getByLabel(`Role for ${bob.email}`)).toHaveValue('VIEWER');
  await b.reload();
  await expect(b.getByRole('main').getByText('Protein folding')).toBeVisible();
  await expect(b.getByRole('button', { name: 'Create notebook' })).toHaveCount(0);

  const workspaceId = await b.evaluate(async () => {
    const list = await fetch('/api/trpc/workspace.list').then((r) => r.json());
    return list.result.data.json.find((w: { slug: string }) => w.slug.startsWith('research-lab'))
      .id as string;
  });
  const refused = await callMutation(b, 'notebook.create', { workspaceId, name: 'Sneaky' });
  expect(refused.status).toBe(403);
  await b.reload();
  await expect(b.getByText('Sneaky')).toHaveCount(0);

  await aliceContext.close();
  await bobContext.close();
});
