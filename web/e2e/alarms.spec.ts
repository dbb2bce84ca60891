// The alarm workflow in the dashboard (issue #6 §3–§4): a logger's exceeding minute value opens
// an alarm that appears on the open alarms page without a reload (server-sent events); it cannot
// be closed while the condition holds; a good value clears it; an analyst acknowledges, dispatches
// to a department with a due time, handles and closes it, and every step is on its timeline.
import { expect, test } from '@playwright/test'
import { USERS } from './users'
import { apiGet, base, login } from './util'
import { dataTime, sendUpload } from './hj212'

const MN = 'GY00000002524A' // the demo's logger of 2524A 老城 (config/registry/devices.csv)

test('an exceedance is alarmed live and followed through to closure', async ({ page }, info) => {
  await login(page, USERS.analyst)
  const name = `e2e PM10 分钟超标 ${Date.now()}`
  const created = await page.request.post(base() + '/api/v1/rules', {
    headers: { Origin: base() },
    data: { name, kind: 'threshold', site: '2524A', factor: 'a34002', data_kind: 'minute', op: '>', limit: 500, severity: 'critical' },
  })
  expect(created.status()).toBe(201)
  const rule = await created.json()

  await page.getByTestId('nav-alarms').click()
  await expect(page.getByTestId('alarm-table')).toBeVisible()
  await expect(page.getByTestId('alarm-table')).not.toContainText(name)

  // Two minutes ago: 612 µg/m³ (exceeds); the page is not reloaded.
  const minute = Math.floor(Date.now() / 60000) * 60000
  await sendUpload({ mn: MN, cp: `DataTime=${dataTime(minute - 120000)};a34002-Avg=612,a34002-Flag=N` })
  const row = page.getByTestId('alarm-table').locator('tbody tr', { hasText: name })
  await expect(row).toHaveCount(1)
  await expect(row).toContainText('●') // active

  await row.click()
  const detail = page.getByTestId('alarm-detail')
  await expect(detail).toContainText('612')
  await expect(detail).toContainText('持续中')

  // Not closable while the value still exceeds.
  await page.getByTestId('alarm-close').click()
  await expect(page.getByTestId('alarm-error')).toBeVisible()

  // One minute ago: 48 µg/m³ clears the episode; the drawer follows.
  await sendUpload({ mn: MN, cp: `DataTime=${dataTime(minute - 60000)};a34002-Avg=48,a34002-Flag=N` })
  await expect(detail).not.toContainText('持续中')

  await page.getByTestId('alarm-note').fill('e2e: 已电话核实')
  await page.getByTestId('alarm-ack').click()
  await expect(detail).toContainText('已确认')
  await page.getByTestId('alarm-department').fill('市生态环境保护综合行政执法支队')
  await page.getByTestId('alarm-assignee').fill('张三')
  await page.getByTestId('alarm-dispatch').click()
  await expect(detail).toContainText('已派发')
  await expect(detail).toContainText('市生态环境保护综合行政执法支队')
  await page.getByTestId('alarm-note').fill('e2e: 现场检查，仪器采样管堵塞已清理')
  await page.getByTestId('alarm-handle').click()
  await expect(detail).toContainText('已处置')
  await page.getByTestId('alarm-close').click()
  await expect(detail).toContainText('已办结')
  await page.screenshot({ path: info.outputPath('alarm-closed.png'), fullPage: true })

  // The API holds the same story: one alarm for the episode, its values, every transition.
  const { alarms } = await apiGet(page, `/api/v1/alarms?rule=${rule.id}`)
  expect(alarms).toHaveLength(1)
  const alarm = await apiGet(page, `/api/v1/alarms/${alarms[0].id}`)
  expect(alarm).toMatchObject({ state: 'closed', active: false, site: '2524A', factor: 'a34002', max_value: 612, department: '市生态环境保护综合行政执法支队', assignee: '张三' })
  const actions = alarm.events.filter((e: any) => e.actor === USERS.analyst.name).map((e: any) => e.action)
  expect(actions).toEqual(expect.arrayContaining(['ack', 'dispatch', 'handle', 'close']))
  await expect(page.getByTestId('alarm-timeline')).toContainText('现场检查')
  await expect(page.getByTestId('alarm-timeline')).toContainText('(value 612)') // as sent, not 612.000000

  // A reviewer then invalidates the data the alarm was raised on: the open drawer's timeline says
  // so without a reload (the engine's data_revised event reaches the page over the live stream).
  const revised = await page.request.post(base() + '/api/v1/audit/actions', {
    headers: { Origin: base() },
    data: { site: '2524A', factor: 'a34002', kind: 'minute', from: alarm.opened_at, to: alarm.cleared_at, action: 'invalidate', reason: 'e2e: 采样管堵塞期间数据无效' },
  })
  expect(revised.status()).toBe(201)
  await expect(page.getByTestId('alarm-timeline')).toContainText('数据经审核修改')
  await expect(page.getByTestId('alarm-timeline')).toContainText('采样管堵塞期间数据无效')
  await expect(page.getByTestId('alarm-detail')).toContainText('已办结') // the alarm itself is unchanged
})
