// Page weight (bytes of every response the page loads) and first meaningful render (navigation
// start → the element that carries the page's point is painted: the city AQI number on the
// portal, the login form on the dashboard), each page loaded RUNS times with a cold cache.
// Prints the median and the 90th percentile; asserts nothing about time (shared machines).
import { test } from '@playwright/test'
import { base } from '../e2e/util'

const RUNS = Number(process.env.RUNS || 20)

function pct(xs: number[], p: number) {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]
}

// The portal marks `ecomon:aqi` when the city AQI is in the DOM; the login page is measured by
// the form's appearance (Playwright's polling adds a few ms there).
for (const [name, path, testId, mark] of [
  ['portal /', '/', 'city-aqi', 'ecomon:aqi'],
  ['dashboard /console/login', '/console/login', 'login-submit', ''],
]) {
  test(`first render of ${name}`, async ({ browser }) => {
    const render: number[] = []
    const bytes: number[] = []
    const wire: number[] = []
    let requests = 0
    for (let i = 0; i < RUNS; i++) {
      const context = await browser.newContext()
      const page = await context.newPage()
      await page.goto(base() + path)
      await page.getByTestId(testId).waitFor({ state: 'visible' })
      render.push(
        await page.evaluate((m) => (m ? performance.getEntriesByName(m)[0].startTime : performance.now()), mark),
      )
      await page.waitForLoadState('networkidle')
      // Everything the page loaded (document, scripts, styles, API answers), as decoded bytes.
      const [total, encoded, count] = await page.evaluate(() => {
        const all = [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')]
        const sum = (k: string) => all.reduce((n, e: any) => n + (e[k] || 0), 0)
        return [sum('decodedBodySize'), sum('encodedBodySize'), all.length]
      })
      bytes.push(total)
      wire.push(encoded)
      requests = count
      await context.close()
    }
    const kb = (n: number) => (n / 1024).toFixed(0) + ' KiB'
    console.log(
      `${name}: first meaningful render median ${pct(render, 50).toFixed(0)} ms, p90 ${pct(render, 90).toFixed(0)} ms ` +
        `over ${RUNS} cold loads; page weight ${kb(pct(bytes, 50))} (${kb(pct(wire, 50))} on the wire, gzip) in ${requests} responses`,
    )
  })
}
