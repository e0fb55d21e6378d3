import { defineConfig } from '@playwright/test';
import { chromiumLaunchOptions } from '../packages/core/src/chromium.ts';

// Debian's Chromium: Playwright's own browser download cannot work offline (shared/docs/environment.md).
export default defineConfig({
  testDir: './tests',
  outputDir: './test-results',
  globalSetup: './support/global-setup.ts',
  fullyParallel: false,
  workers: 1,
  retries: 0,
  // CI is a 2-core machine that may run at load 12-24: a step that takes 2 s idle can take 20 s there.
  timeout: 180_000,
  expect: { timeout: 30_000 },
  reporter: [['list']],
  use: {
    baseURL: process.env.KILN_E2E_BASE_URL,
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
    launchOptions: chromiumLaunchOptions(),
  },
});
