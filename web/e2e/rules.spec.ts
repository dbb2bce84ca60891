// Alarm rules in the dashboard (issue #6 §2): an analyst creates rules of two kinds through the
// form and they are stored exactly as entered; a bad rule shows the API's reason; disabling takes
// effect; a viewer sees the rules but cannot create one, and the API refuses it too.
import { expect, Page, test } from '@playwright/test'
import { USERS } from './users'
import { apiGet, base, login } from './util'

// Picks an option of the Element Plus select with this test id (its dropdown is teleported).
async function choose(page: Page, testId: string, option: string) {
  await page.getByTestId(testId).click()
  await page.locator('.el-select-dropdown:visible .el-select-dropdown__item', { hasText: option }).first().click()
}

// Fills an Element Plus number input, wherever its test id landed (the root or the input).
async function fillNumber(page: Page, testId: string, text: string) {
  const el = page.getByTestId(testId)
  const input = (await el.evaluate((e) => e.tagName)) === 'INPUT' ? el : el.locator('input')
  await input.fill(text)
  await input.blur()
}

test('an analyst creates, sees and disables alarm rules', async ({ page }, info) => {
  await login(page, USERS.analyst)
  await page.getByTestId('nav-rules').click()
  await expect(page.getByTestId('rule-table')).toBeVisible()

  // A threshold rule with the form's defaults for data kind (hour) and comparison (>).
  const name = `e2e PM2.5 小时超标 ${Date.now()}`
  await page.getByTestId('rule-new').click()
  await page.getByTestId('rule-name').fill(name)
  await choose(page, 'rule-site', '2526A')
  await fillNumber(page, 'rule-limit', '115')
  await choose(page, 'rule-severity', '严重')
  await page.screenshot({ path: info.outputPath('rule-form.png') })
  await page.getByTestId('rule-submit').click()
  await expect(page.getByTestId('rule-table')).toContainText(name)

  const stored = (await apiGet(page, '/api/v1/rules')).rules.find((r: any) => r.name === name)
  expect(stored).toMatchObject({
    kind: 'threshold', site: '2526A', factor: 'a34004', data_kind: 'hour', field: 'Avg', op: '>', limit: 115,
    severity: 'critical', enabled: true, created_by: USERS.analyst.name,
  })

  // An AQI-level rule: only the level is asked for; no factor goes to the API.
  const aqiName = `e2e AQI 轻度污染 ${Date.now()}`
  await page.getByTestId('rule-new').click()
  await choose(page, 'rule-kind', 'AQI 级别')
  await expect(page.getByTestId('rule-factor')).toHaveCount(0)
  await page.getByTestId('rule-name').fill(aqiName)
  await choose(page, 'rule-site', '2526A')
  await choose(page, 'rule-limit', '> 100')
  await page.getByTestId('rule-submit').click()
  await expect(page.getByTestId('rule-table')).toContainText(aqiName)
  const aqi = (await apiGet(page, '/api/v1/rules')).rules.find((r: any) => r.name === aqiName)
  expect(aqi).toMatchObject({ kind: 'aqi_level', site: '2526A', op: '>', limit: 100 })
  expect(aqi.factor).toBeUndefined()

  // A rule without a name: the API's reason is shown and nothing is stored.
  const count = (await apiGet(page, '/api/v1/rules')).rules.length
  await page.getByTestId('rule-new').click()
  await page.getByTestId('rule-submit').click()
  await expect(page.getByTestId('rule-error')).toContainText('name')
  expect((await apiGet(page, '/api/v1/rules')).rules.length).toBe(count)
  await page.keyboard.press('Escape')

  // Disabling.
  await page.getByTestId('rule-disable-' + stored.id).click()
  await expect(page.getByTestId('rule-disable-' + stored.id)).toHaveCount(0)
  const after = (await apiGet(page, '/api/v1/rules')).rules.find((r: any) => r.id === stored.id)
  expect(after.enabled).toBe(false)
  await page.screenshot({ path: info.outputPath('rules.png'), fullPage: true })
})

test('a viewer sees the rules but cannot create one', async ({ page }) => {
  await login(page, USERS.viewer)
  await page.getByTestId('nav-rules').click()
  await expect(page.getByTestId('rule-table')).toBeVisible()
  await expect(page.getByTestId('rule-new')).toHaveCount(0)
  const r = await page.request.post(base() + '/api/v1/rules', {
    headers: { Origin: base() },
    data: { name: 'viewer rule', kind: 'threshold', site: '2526A', factor: 'a34004', limit: 1 },
  })
  expect(r.status()).toBe(403)
})
