import { defineConfig } from '@playwright/test';
import { chromiumLaunchOptions } from '../packages/core/src/chromium.ts';

// Specs that start, kill and restart their own database, gateway and web server (or, for
// no-phone-home, a whole stack in a network namespace of its own) share nothing with the stack of
// global setup, so they run in a lane of their own beside it: one test at a time in each lane.
// Everything that uses the shared stack stays in one lane, since kernel-queue fills the shared
// scheduler node on purpose and a kernel from a test beside it would queue.
const ownProcesses = [
  'billing-crash.spec.ts',
  'no-phone-home.spec.ts',
  'resilience.spec.ts',
  'sign-up-modes.spec.ts',
];

// Debian's Chromium: Playwright's own browser download cannot work offline (shared/docs/environment.md).
export default defineConfig({
  testDir: './tests',
  outputDir: './test-results',
  globalSetup: './support/global-setup.ts',
  fullyParallel: false,
  workers: 2,
  projects: [
    { name: 'own-processes', testMatch: ownProcesses, workers: 1 },
    { name: 'shared-stack', testIgnore: ownProcesses, workers: 1 },
  ],
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
