// Forwarding to the provincial platform in the dashboard (DESIGN.md "forward", issue #5 §2): an
// operator sees the upstream connected and the frames of 2524A's hours acknowledged; an hour that
// arrives 30 hours late is forwarded again as 补传 and the fake platform (global-setup.ts) really
// received it with the value as sent.
import { expect, test } from '@playwright/test'
import { readFileSync } from 'node:fs'
import { USERS } from './users'
import { apiGet, login } from './util'
import { dataTime, sendUpload } from './hj212'

const MN = 'GY00000002524A'
const HOUR = 3600e3

function received(): string {
  const log = process.env.E2E_UPSTREAM_LOG
  if (!log) throw new Error('E2E_UPSTREAM_LOG is not set (global-setup.ts)')
  return readFileSync(log, 'utf8')
}

test('an operator follows what reached the provincial platform', async ({ page }, info) => {
  await login(page, USERS.operator)
  await page.getByTestId('nav-forward').click()
  await expect(page.getByTestId('forward-table')).toContainText('province')
  await expect(page.getByTestId('forward-state-province')).toContainText('在线')
  // One upstream: its ledger opens by itself; the simulator's hours of 2524A are acknowledged.
  const ledger = page.getByTestId('ledger-table')
  await expect(ledger).toContainText(MN)
  await expect(ledger).toContainText('2061')

  // An hour 30 hours back, sent now: stored, then forwarded as a late value (补传).
  const late = Math.floor(Date.now() / HOUR) * HOUR - 30 * HOUR
  const time = dataTime(late)
  await sendUpload({ mn: MN, cn: '2061', cp: `DataTime=${time};a34004-Avg=57.5,a34004-Flag=N` })
  await expect(async () => {
    const { frames } = await apiGet(page, `/api/v1/forward/province/ledger?mn=${MN}&limit=1000`)
    const frame = frames.find((f: any) => Date.parse(f.data_time) === late)
    expect(frame).toMatchObject({ cn: 2061, reason: 'late' })
    expect(frame.acked_at).toBeTruthy()
  }).toPass({ timeout: 20_000 })
  const arrived = received().split('\n').filter((f) => f.includes(`DataTime=${time}`) && f.includes('CN=2061'))
  expect(arrived.length).toBeGreaterThanOrEqual(1)
  expect(arrived.join('\n')).toContain('a34004-Avg=57.5')
  expect(arrived.join('\n')).toContain('PW=prov-2026') // the password the province gave us

  await page.getByTestId('ledger-mn').fill(MN)
  await expect(ledger.locator('tbody tr', { hasText: '补传' }).first()).toBeVisible()
  await page.screenshot({ path: info.outputPath('forward.png'), fullPage: true })
})

test('a viewer has no forwarding page and the API refuses it', async ({ page }) => {
  await login(page, USERS.viewer)
  await expect(page.getByTestId('nav-forward')).toHaveCount(0)
  const r = await page.request.get(process.env.E2E_BASE_URL + '/api/v1/forward')
  expect(r.status()).toBe(403)
})
