import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { appUrl } from '../support/fixtures.ts';
import { openNotebook, output, setSource } from '../support/notebook.ts';
import { createTeam } from '../support/team.ts';

// Kernels are real runsc sandboxes (a kernel with volumes starts from the snapshot or a warm spare).
test.setTimeout(240_000);

const MIB = 1024 * 1024;

test("a file dropped on a named volume in the file browser is read by a kernel cell, and the kernel's file shows up", async ({
  browser,
}) => {
  const team = await createTeam(browser, 'VIEWER');
  const { alice, bob } = team;
  const page = alice.page;
  await page.goto(appUrl(`/w/${team.slug}`));
  await page.getByRole('tab', { name: 'Files' }).click();
  const files = page.getByRole('region', { name: 'Workspace files' });

  await files.getByRole('button', { name: 'New volume' }).click();
  const dialog = page.getByRole('dialog', { name: 'New volume' });
  await dialog.getByLabel('Volume name').fill('datasets');
  await dialog.getByRole('button', { name: 'Create volume' }).click();
  await expect(files.getByRole('combobox', { name: 'Volume' }).locator('option:checked')).toHaveText(
    '/vol/datasets',
  );
  await expect(files.getByText('This folder is empty.')).toBeVisible();

  // Dropped like a file dragged from the desktop.
  const dataTransfer = await page.evaluateHandle(() => {
    const transfer = new DataTransfer();
    transfer.items.add(new File(['rows=42\n'], 'stats.txt', { type: 'text/plain' }));
    return transfer;
  });
  await files.dispatchEvent('dragover', { dataTransfer });
  await files.dispatchEvent('drop', { dataTransfer });
  await expect(files.getByRole('button', { name: 'stats.txt', exact: true })).toBeVisible();
  await expect(files.getByTestId('volume-usage')).toContainText('used of');

  // A viewer lists it but has no upload, rename or delete.
  await bob.page.goto(appUrl(`/w/${team.slug}`));
  await bob.page.getByRole('tab', { name: 'Files' }).click();
  const bobFiles = bob.page.getByRole('region', { name: 'Workspace files' });
  await bobFiles.getByRole('combobox', { name: 'Volume' }).selectOption({ label: '/vol/datasets' });
  await expect(bobFiles.getByRole('button', { name: 'stats.txt', exact: true })).toBeVisible();
  await expect(bobFiles.getByRole('button', { name: 'Upload a file' })).toHaveCount(0);
  await expect(bobFiles.getByRole('button', { name: 'Delete stats.txt' })).toHaveCount(0);

  // The notebook mounts the volume; its kernel reads the upload and writes a file of its own.
  await openNotebook(page, team.notebookUrl);
  await page.getByRole('button', { name: /^Volumes/ }).click();
  const chooser = page.getByRole('dialog', { name: 'Volumes for this notebook' });
  await chooser.getByRole('checkbox', { name: '/vol/datasets' }).check();
  await chooser.getByRole('button', { name: 'Use these volumes' }).click();
  await expect(page.getByRole('button', { name: 'Volumes (1)' })).toBeVisible();
  await setSource(
    page,
    1,
    "print(open('/vol/datasets/stats.txt').read().strip()); open('/vol/datasets/result.txt', 'w').write('ok')",
  );
  await page.getByRole('button', { name: 'Run cell 1' }).click();
  await expect(output(page, 1)).toContainText('rows=42', { timeout: 180_000 });

  await page.goto(appUrl(`/w/${team.slug}`));
  await page.getByRole('tab', { name: 'Files' }).click();
  await files.getByRole('combobox', { name: 'Volume' }).selectOption({ label: '/vol/datasets' });
  await expect(files.getByRole('button', { name: 'result.txt', exact: true })).toBeVisible();

  // Deleting it while the notebook's kernel still mounts it names that kernel first; "Delete anyway"
  // removes it for the workspace (the kernel is stopped, told why, before its files are erased).
  await files.getByRole('button', { name: 'Delete volume' }).click();
  const confirm = page.getByRole('dialog', { name: 'Delete volume' });
  await confirm.getByRole('button', { name: 'Delete volume and its files' }).click();
  await expect(confirm).toContainText(/The volume datasets is mounted by notebook .* \(running\)/);
  await confirm.getByRole('button', { name: 'Delete anyway' }).click();
  await expect(confirm).toBeHidden();
  await expect(files.getByRole('combobox', { name: 'Volume' }).locator('option')).toHaveText(['/workspace']);
  await team.close();
});

test('an upload past 100 MB shows progress and, after the page reloads mid-way, continues where the server is', async ({
  browser,
}) => {
  const team = await createTeam(browser);
  const page = team.alice.page;
  const dir = await mkdtemp(join(tmpdir(), 'kiln-e2e-upload-'));
  try {
    const big = join(dir, 'big.bin');
    const block = Buffer.alloc(MIB, 7);
    const handle = await open(big, 'w');
    for (let i = 0; i < 120; i++) await handle.write(block);
    await handle.close();

    await page.goto(appUrl(`/w/${team.slug}`));
    await page.getByRole('tab', { name: 'Files' }).click();
    const files = page.getByRole('region', { name: 'Workspace files' });
    await files.getByRole('button', { name: 'New volume' }).click();
    const dialog = page.getByRole('dialog', { name: 'New volume' });
    await dialog.getByLabel('Volume name').fill('uploads');
    await dialog.getByRole('button', { name: 'Create volume' }).click();
    await expect(files.getByText('This folder is empty.')).toBeVisible();

    // Interrupted once the server has more than 16 MiB of it.
    const advanced = page.waitForResponse(
      (response) =>
        response.request().method() === 'PATCH' &&
        Number(response.headers()['upload-offset'] ?? 0) > 16 * MIB,
      { timeout: 120_000 },
    );
    await files.getByLabel('File to upload').setInputFiles(big);
    await expect(files.getByRole('progressbar', { name: 'Upload of big.bin' })).toBeVisible();
    await advanced;
    await page.reload();

    const sent: { method: string; offset: number }[] = [];
    page.on('request', (request) => {
      if (!request.url().includes('/upload?')) return;
      sent.push({ method: request.method(), offset: Number(request.headers()['upload-offset'] ?? -1) });
    });
    await page.getByRole('tab', { name: 'Files' }).click();
    await files.getByRole('combobox', { name: 'Volume' }).selectOption({ label: '/vol/uploads' });
    await files.getByLabel('File to upload').setInputFiles(big);
    await expect(files.getByRole('button', { name: 'big.bin', exact: true })).toHaveAttribute(
      'title',
      'big.bin (120.0 MB)',
      { timeout: 180_000 },
    );
    // The second attempt asked where the upload was and went on from there: no new upload, no byte 0.
    expect(sent.filter((request) => request.method === 'POST')).toEqual([]);
    const patches = sent.filter((request) => request.method === 'PATCH');
    expect(patches[0]?.offset).toBeGreaterThan(16 * MIB);
  } finally {
    await rm(dir, { recursive: true, force: true });
    await team.close();
  }
});
