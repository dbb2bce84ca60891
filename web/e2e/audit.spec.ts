// Data audit in the dashboard (issue #8 §4, issue #5 §5): an analyst invalidates one hourly value
// with a reason; the audit chart loses the value and the station's hourly AQI changes, the raw
// value stays in the store and the action is in the version history.
import { expect, test } from '@playwright/test'
import { USERS } from './users'
import { apiGet, login } from './util'

// HJ 633 item names (as the API writes them) → HJ 212 factor codes.
const CODE: Record<string, string> = { 'PM2.5': 'a34004', PM10: 'a34002', O3: 'a05024', NO2: 'a21004', SO2: 'a21026', CO: 'a21005' }

test('an analyst invalidates a value and the chart and the hourly AQI change', async ({ page }, info) => {
  await login(page, USERS.analyst)
  const now = Date.now()
  const from = encodeURIComponent(new Date(now - 24 * 3600e3).toISOString())
  const to = encodeURIComponent(new Date(now + 3600e3).toISOString())
  const before = await apiGet(page, `/api/v1/aqi?site=2526A&mode=hourly&from=${from}&to=${to}`)
  // An hour whose AQI is set by one item alone (its IAQI above every other item's): without that
  // value the AQI must be another number.
  const hour = before.aqi.find((h: any) => {
    const items = Object.entries(h.iaqi as Record<string, number>).sort((a, b) => b[1] - a[1])
    return h.aqi !== null && items.length > 1 && items[0][1] > items[1][1] && CODE[items[0][0]]
  })
  expect(hour, 'the demo data has an hour with a single deciding item').toBeTruthy()
  const item = Object.entries(hour.iaqi as Record<string, number>).sort((a, b) => b[1] - a[1])[0][0]
  const factor = CODE[item]

  await page.goto(`${new URL(page.url()).origin}/console/audit?site=2526A&factor=${factor}`)
  const row = page.getByTestId('audit-table').locator('tbody tr', { hasText: hour.hour_start })
  await expect(row).toHaveCount(1)
  const chart = page.getByTestId('audit-chart')
  const aqiChart = page.getByTestId('audit-aqi')
  const valueAt = async () => new Map(JSON.parse((await chart.getAttribute('data-points'))!)).get(hour.hour_start)
  const aqiAt = async () => new Map(JSON.parse((await aqiChart.getAttribute('data-hours'))!)).get(hour.hour_start)
  await expect.poll(valueAt).not.toBeNull()
  await expect.poll(aqiAt).toBe(hour.aqi)
  const raw = await valueAt()
  await page.screenshot({ path: info.outputPath('audit-before.png'), fullPage: true })

  await row.locator('.el-checkbox').click()
  await page.getByTestId('audit-reason').fill('e2e: 仪器故障 (instrument fault)')
  await page.getByTestId('audit-submit').click()
  await expect(page.getByTestId('audit-message')).toContainText('invalidate')

  // The chart no longer draws the value; the hourly AQI is recomputed without it.
  await expect.poll(valueAt).toBeNull()
  await expect.poll(aqiAt).not.toBe(hour.aqi)
  const after = await apiGet(page, `/api/v1/aqi?site=2526A&mode=hourly&from=${from}&to=${to}`)
  const recomputed = after.aqi.find((h: any) => h.hour_start === hour.hour_start)
  expect(recomputed.iaqi[item]).toBeUndefined()
  await expect.poll(aqiAt).toBe(recomputed.aqi)
  await expect(page.getByTestId('audit-table').locator('tbody tr', { hasText: hour.hour_start })).toContainText(
    String(raw),
  )
  await expect(page.getByTestId('audit-history')).toContainText('e2e: 仪器故障')
  await page.screenshot({ path: info.outputPath('audit-after.png'), fullPage: true })
})
