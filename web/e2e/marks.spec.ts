// Screening marks in the dashboard (issue #5 §4/§5): a logger that sends one NO2 value for more
// than a day is caught by the automatic screening (rule constant, 恒值); the mark appears on the
// 筛查标记 page; a reviewer confirms it and invalidates its period, and the stored hourly means of
// that period become invalid — while the raw values stay as they were sent. Dismissing without
// a note shows the API's reason.
import { expect, test } from '@playwright/test'
import { USERS } from './users'
import { apiGet, base, login } from './util'
import { dataTime, sendUpload } from './hj212'

const SITE = '2525A'
const MN = 'GY00000002525A' // the demo's logger of 2525A (config/registry/devices.csv)
const HOUR = 3600e3

test('a stuck series is marked, confirmed and its period invalidated', async ({ page }, info) => {
  // 27 hours of NO2 = 41 µg/m³, 40 to 14 hours ago (the simulator only fills the last hours):
  // longer than the 24 h the constant rule allows NO2 (analytics/screening.h).
  const hour = Math.floor(Date.now() / HOUR) * HOUR
  const first = hour - 40 * HOUR
  for (let i = 0; i < 27; i++) {
    await sendUpload({ mn: MN, cn: '2061', cp: `DataTime=${dataTime(first + i * HOUR)};a21004-Avg=41,a21004-Flag=N` })
  }
  await login(page, USERS.reviewer)
  // The screening service marks it in the background: wait for the mark through the API.
  let mark: any
  await expect(async () => {
    const { marks } = await apiGet(page, `/api/v1/screening/marks?site=${SITE}&rule=constant&status=open`)
    mark = marks.find((m: any) => m.factor === 'a21004' && m.mn === MN)
    expect(mark).toBeTruthy()
  }).toPass({ timeout: 30_000 })
  expect(mark).toMatchObject({ kind: 'hour', rule: 'constant', status: 'open', count: 27 })
  expect(Date.parse(mark.from)).toBe(first)

  await page.getByTestId('nav-marks').click()
  await page.getByTestId('marks-site-filter').fill(SITE)
  const row = page.getByTestId('marks-table').locator('tbody tr', { hasText: 'a21004' }).filter({ hasText: 'constant' })
  await expect(row).toHaveCount(1)
  await row.click()
  await expect(page.getByTestId('mark-detail')).toContainText(MN)
  await expect(page.getByTestId('mark-evidence')).not.toBeEmpty()

  // Dismissing needs a reason: the API's message is shown, nothing changes.
  await page.getByTestId('mark-dismiss').click()
  await expect(page.getByTestId('mark-error')).toContainText('note')

  await page.getByTestId('mark-note').fill('e2e: 现场核查，仪器输出卡死')
  await page.getByTestId('mark-invalidate').click()
  await page.getByTestId('mark-confirm').click()
  await expect(page.getByTestId('mark-detail')).toContainText('属实')
  await expect(page.getByTestId('mark-detail')).toContainText(USERS.reviewer.name)
  await page.screenshot({ path: info.outputPath('mark-confirmed.png'), fullPage: true })

  // The API holds the review and the invalidation it made; the stored hours follow, raw stays.
  const stored = await apiGet(page, `/api/v1/screening/marks/${mark.id}`)
  expect(stored).toMatchObject({ status: 'confirmed', reviewed_by: USERS.reviewer.name, review_note: 'e2e: 现场核查，仪器输出卡死' })
  expect(typeof stored.review_action).toBe('number')
  const { actions } = await apiGet(page, `/api/v1/audit/actions?site=${SITE}&factor=a21004`)
  const action = actions.find((a: any) => a.id === stored.review_action)
  expect(action).toMatchObject({ action: 'invalidate' })
  const range = `from=${encodeURIComponent(mark.from)}&to=${encodeURIComponent(mark.to)}`
  await expect(async () => {
    const { aggregates } = await apiGet(page, `/api/v1/aggregates?site=${SITE}&factor=a21004&interval=hour&${range}`)
    expect(aggregates.length).toBe(27)
    expect(aggregates.every((a: any) => a.valid === false)).toBe(true)
    expect(aggregates.every((a: any) => a.raw_value === 41)).toBe(true)
  }).toPass({ timeout: 15_000 })
})
