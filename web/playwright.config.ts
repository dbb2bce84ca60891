// Browser tests of the portal and the dashboard (issue #8): Playwright's runner driving Debian's
// Chromium (/usr/bin/chromium, installed by scripts/install-deps.sh; no browser download).
// e2e/global-setup.ts starts the real `ecomon serve` on a fresh data directory, adds users and
// feeds the demo's real data through HJ 212. Screenshots of every page go to test-results/.
import { defineConfig } from '@playwright/test'

export default defineConfig({
  testDir: './e2e',
  globalSetup: './e2e/global-setup.ts',
  timeout: 60_000,
  expect: { timeout: 15_000 },
  workers: 1,
  retries: 0,
  reporter: [['list']],
  outputDir: 'test-results',
  use: {
    browserName: 'chromium',
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
    viewport: { width: 1366, height: 900 },
    launchOptions: {
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
    trace: 'off',
  },
})
