import { defineConfig } from '@playwright/test';
import base from './playwright.config.ts';

// The main screens as PNGs for the README (scripts/screenshots.sh); same app and browser as e2e.
export default defineConfig({
  ...base,
  testDir: './screenshots',
  outputDir: './test-results/screenshots',
  timeout: 300_000,
  use: { ...base.use, viewport: { width: 1280, height: 800 }, colorScheme: 'light' },
});
