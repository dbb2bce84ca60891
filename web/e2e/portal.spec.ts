// The public portal (issue #8 §3): no login, the city AQI from real demo data, every station,
// water sections; the numbers on the page are the API's.
import { expect, test } from '@playwright/test'
import { USERS } from './users'
import { base } from './util'

test('the portal shows the city AQI, every station and the water sections from the public API', async ({ page, request }, info) => {
  const aqi = await (await request.get(base() + '/api/public/v1/aqi')).json()
  expect(aqi.cities.length, 'the demo data gives the city an AQI').toBeGreaterThan(0)
  const city = aqi.cities[0]
  expect(city.aqi).not.toBeNull()

  await page.goto(base() + '/')
  await expect(page.getByTestId('city-aqi')).toHaveText(String(city.aqi))
  await expect(page.getByTestId('city-category')).toHaveText(city.category)
  await expect(page.getByText('实时数据，未经审核').first()).toBeVisible()
  // The AQI colour of HJ 633 表2 behind the number.
  const colour = await page.getByTestId('city-aqi').evaluate((e) => getComputedStyle(e).backgroundColor)
  expect(colour).not.toBe('rgba(0, 0, 0, 0)')

  for (const s of aqi.stations) {
    const row = page.getByTestId('station-' + s.code)
    await expect(row).toContainText(s.name)
    await expect(row.getByTestId('station-aqi')).toHaveText(s.aqi === null ? '—' : String(s.aqi))
  }
  await expect(page.getByTestId('portal-map')).toHaveAttribute('data-stations', String(aqi.stations.length))

  const water = await (await request.get(base() + '/api/public/v1/water')).json()
  expect(water.sections.length).toBeGreaterThan(0)
  for (const s of water.sections) {
    await expect(page.getByTestId('section-' + s.code)).toContainText(s.name)
  }
  await page.screenshot({ path: info.outputPath('portal-zh.png'), fullPage: true })

  // English second.
  await page.getByTestId('lang-switch').click()
  await expect(page.getByText('Real-time data, not yet audited').first()).toBeVisible()
  await page.screenshot({ path: info.outputPath('portal-en.png'), fullPage: true })
})

test('the portal needs no login and the dashboard does', async ({ page }) => {
  const r = await page.goto(base() + '/')
  expect(r!.status()).toBe(200)
  await page.goto(base() + '/console/map')
  await expect(page).toHaveURL(/\/console\/login/)
})

test('a dust-storm day marked by a reviewer is shown in the daily report, the AQI unchanged', async ({ page, request }) => {
  const before = await (await request.get(base() + '/api/public/v1/aqi/daily?days=30')).json()
  const city = before.cities[0]
  const yesterday = city.aqi[city.aqi.length - 1]
  expect(yesterday.dust_storm).toBe(false)

  // An analyst marks yesterday a dust-storm day for the whole city (a review action).
  const login = await request.post(base() + '/api/auth/login', {
    headers: { Origin: base() },
    data: { name: USERS.analyst.name, password: USERS.analyst.password },
  })
  expect(login.status()).toBe(200)
  const next = new Date(Date.parse(yesterday.time) + 86400e3).toISOString()
  const marked = await request.post(base() + '/api/v1/audit/actions', {
    headers: { Origin: base() },
    data: { site: city.code, from: yesterday.time, to: next, action: 'dust_storm', reason: 'e2e: 气象部门沙尘天气公报' },
  })
  expect(marked.status(), await marked.text()).toBe(201)

  const after = await (await request.get(base() + '/api/public/v1/aqi/daily?days=30')).json()
  const day = after.cities[0].aqi.find((d: any) => d.date === yesterday.date)
  expect(day.dust_storm).toBe(true)
  expect(day.aqi).toBe(yesterday.aqi)

  await page.goto(base() + '/')
  const row = page.getByTestId('daily-report').locator('tbody tr', { hasText: yesterday.date })
  await expect(row.getByTestId('dust-mark')).toHaveText(/沙尘/)
  const others = page.getByTestId('daily-report').getByTestId('dust-mark')
  await expect(others).toHaveCount(1)
})
