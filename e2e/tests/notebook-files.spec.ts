import { readFile } from 'node:fs/promises';
import { notebookFixturePath } from '@kiln/notebook/testing';
import { expect, test } from '@playwright/test';
import { signUp, uniqueEmail } from '../support/fixtures.ts';
import { cell } from '../support/notebook.ts';

test('a notebook Colab wrote, imported through the page, downloads byte for byte as it was', async ({
  page,
}) => {
  const file = notebookFixturePath('unsorted-keys-indent-2.ipynb');
  const original = await readFile(file);
  await signUp(page, { name: 'Ivy Importer', email: uniqueEmail('ivy'), password: 'a long enough password' });

  await page.locator('input[type=file]').setInputFiles(file);
  await expect(page).toHaveURL(/\/n\//, { timeout: 30_000 });
  await expect(page.getByRole('heading', { name: 'unsorted-keys-indent-2' })).toBeVisible();
  await expect(cell(page, 1)).toBeVisible();

  const downloading = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Download .ipynb' }).click();
  const download = await downloading;
  expect(download.suggestedFilename()).toBe('unsorted-keys-indent-2.ipynb');
  const exported = await readFile(await download.path());
  expect(exported.equals(original)).toBe(true);
});

test('a file that is not a notebook is refused with the reason and creates nothing', async ({ page }) => {
  await signUp(page, { name: 'Ned Broken', email: uniqueEmail('ned'), password: 'a long enough password' });
  const workspaceUrl = page.url();
  await page.locator('input[type=file]').setInputFiles({
    name: 'broken.ipynb',
    mimeType: 'application/x-ipynb+json',
    buffer: Buffer.from('{"nbformat": 4, "cells": [,]}'),
  });
  await expect(page.getByText(/not valid JSON/)).toBeVisible();
  await page.goto(workspaceUrl);
  await expect(page.getByText('No notebooks yet')).toBeVisible();
});
