// `make bench`: page weight and first render of the portal and the dashboard's login page,
// measured in Debian's Chromium against the real server (same setup as the browser tests).
import { defineConfig } from '@playwright/test'
import base from './playwright.config'

export default defineConfig({
  ...base,
  testDir: './bench',
  testMatch: '*.bench.ts',
  timeout: 300_000,
  outputDir: 'test-results/bench',
})
