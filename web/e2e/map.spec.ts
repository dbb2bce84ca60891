// 一张图 and the site page (issue #8 §2, §4): every registered site is on the map page; clicking a
// station opens its page with a chart holding the values the API returns.
import { expect, test } from '@playwright/test'
import { USERS } from './users'
import { apiGet, base, login } from './util'

test('the map shows every registered site', async ({ page }, info) => {
  await login(page, USERS.analyst)
  const { sites } = await apiGet(page, '/api/v1/sites')
  expect(sites.length).toBeGreaterThan(30)
  await expect(page.getByTestId('site-count')).toHaveText(String(sites.length))
  for (const s of sites) await expect(page.getByTestId('site-row-' + s.code)).toBeAttached()
  const placed = sites.filter((s: any) => s.lon !== null && s.lat !== null).length
  await expect(page.getByTestId('network-map')).toHaveAttribute('data-points', String(placed))
  await page.screenshot({ path: info.outputPath('map.png'), fullPage: true })

  // Filter by kind: only the air stations remain.
  await page.getByTestId('filter-kind').click()
  await page.getByRole('option', { name: '环境空气' }).click()
  const air = sites.filter((s: any) => s.kind === 'ambient_air').length
  await expect(page.getByTestId('site-count')).toHaveText(String(air))
})

test('clicking a station opens its page and the chart holds the API values', async ({ page }, info) => {
  await login(page, USERS.analyst)
  await page.getByTestId('site-row-2526A').click()
  await expect(page).toHaveURL(/\/console\/sites\/2526A/)
  await expect(page.getByTestId('site-title')).toHaveText('监测站')
  await expect(page.getByTestId('latest-table')).toContainText('a34004')

  // The 24-h chart's values are the API's hourly series of PM2.5 for the same window.
  const chart = page.getByTestId('chart-24h')
  await expect(chart).not.toHaveAttribute('data-values', '[]')
  const shown = JSON.parse((await chart.getAttribute('data-values'))!)
  const table = page.getByTestId('chart-table-24h')
  const times = await table.locator('tbody tr td:first-child').allTextContents()
  expect(times.length).toBe(shown.length)
  const from = encodeURIComponent(new Date(Date.parse(times[0]) - 3600e3).toISOString())
  const to = encodeURIComponent(new Date(Date.parse(times[times.length - 1])).toISOString())
  const api = await apiGet(page, `/api/v1/series?site=2526A&factor=a34004&kind=hour&interval=hour&from=${from}&to=${to}`)
  expect(api.series.map((p: any) => (p.valid === false ? null : p.value))).toEqual(shown)
  expect(shown.filter((v: any) => v !== null).length).toBeGreaterThan(10)
  await page.screenshot({ path: info.outputPath('site-2526A.png'), fullPage: true })
})
