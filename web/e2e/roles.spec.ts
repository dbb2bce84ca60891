// Role-aware dashboard (issue #8 §4): a user without the review role cannot reach the audit page,
// and the API refuses the action as well.
import { expect, test } from '@playwright/test'
import { USERS } from './users'
import { base, login } from './util'

test('a viewer sees no audit entry and is refused the audit page', async ({ page }, info) => {
  await login(page, USERS.viewer)
  await expect(page.getByTestId('nav-map')).toBeVisible()
  await expect(page.getByTestId('nav-audit')).toHaveCount(0)
  await page.goto(base() + '/console/audit')
  await expect(page.getByTestId('forbidden')).toBeVisible()
  await expect(page.getByTestId('audit-submit')).toHaveCount(0)
  await page.screenshot({ path: info.outputPath('audit-forbidden.png') })

  const r = await page.request.post(base() + '/api/v1/audit/actions', {
    headers: { Origin: base() },
    data: { site: '2526A', factor: 'a34004', kind: 'hour', from: '2026-01-01T00:00:00+08:00', to: '2026-01-01T01:00:00+08:00', action: 'invalidate', reason: 'e2e' },
  })
  expect(r.status()).toBe(403)
})

test('an analyst sees the audit, alarms and devices pages', async ({ page }, info) => {
  await login(page, USERS.analyst)
  for (const [nav, shot] of [
    ['nav-overview', 'overview'],
    ['nav-alarms', 'alarms'],
    ['nav-devices', 'devices'],
    ['nav-audit', 'audit'],
  ]) {
    await page.getByTestId(nav).click()
    await expect(page.getByTestId('forbidden')).toHaveCount(0)
    await page.waitForLoadState('networkidle')
    await page.screenshot({ path: info.outputPath(shot + '.png'), fullPage: true })
  }
  // The devices page lists the registry's data loggers with their traffic.
  await page.getByTestId('nav-devices').click()
  const { devices } = await (await page.request.get(base() + '/api/v1/devices')).json()
  expect(devices.length).toBeGreaterThan(0)
  for (const d of devices) await expect(page.getByTestId('device-table')).toContainText(d.mn)
  // A device's stored values, and the raw frame one of them came in.
  await page.getByTestId('device-table').getByText('GY00000002526A').click()
  const link = page.getByTestId('record-table').locator('[data-testid^="frame-link-"]').first()
  await expect(link).toBeVisible()
  await link.click()
  await expect(page.getByTestId('frame-bytes')).toContainText('MN=GY00000002526A')
  expect((await page.getByTestId('frame-bytes').textContent())!.startsWith('##')).toBe(true)
  await page.screenshot({ path: info.outputPath('device-frame.png') })
})
