// Key polluters in the dashboard (issue #6 §1): the demo enterprise's outlets and permits as the
// registry holds them, and an hourly emission sent by its flue-gas logger over HJ 212 reaching the
// year's cumulative total, as the API computes it.
import { expect, test } from '@playwright/test'
import { USERS } from './users'
import { apiGet, login } from './util'
import { dataTime, sendUpload } from './hj212'

test('an enterprise page shows outlets, permits and the emissions a logger sent', async ({ page }, info) => {
  await login(page, USERS.analyst)
  await page.getByTestId('nav-enterprises').click()
  const { enterprises } = await apiGet(page, '/api/v1/enterprises')
  expect(enterprises.map((e: any) => e.code)).toContain('GYDEMO01')
  await page.getByTestId('enterprise-table').getByText('GYDEMO01').click()

  const detail = await apiGet(page, '/api/v1/enterprises/GYDEMO01')
  for (const o of detail.outlets) {
    const card = page.getByTestId('outlet-' + o.site)
    await expect(card).toContainText(o.permit_code)
    for (const p of o.permits) {
      await expect(card).toContainText(p.standard)
      await expect(card).toContainText(`${p.limit} ${p.unit}`)
    }
  }

  // The current hour of the flue-gas outlet (the demo replay has sent the hours before it):
  // SO2 12.5 kg sent as Cou.
  const before = await apiGet(page, '/api/v1/enterprises/GYDEMO01/emissions')
  const so2 = (e: any) => e.outlets.find((o: any) => o.site === 'GYDEMO01DA001').factors.find((f: any) => f.factor === 'a21026')
  const hour = Math.floor(Date.now() / 3600e3) * 3600e3
  await sendUpload({
    mn: 'GYDEMO01DA01',
    st: '31',
    cn: '2061',
    cp: `DataTime=${dataTime(hour)};a21026-Avg=40.2,a21026-ZsAvg=45.1,a21026-Cou=12.5,a21026-Flag=N;a00000-Cou=311000,a00000-Flag=N`,
  })
  await expect.poll(async () => so2(await apiGet(page, '/api/v1/enterprises/GYDEMO01/emissions')).total_kg).toBeCloseTo(so2(before).total_kg + 12.5, 6)
  const after = so2(await apiGet(page, '/api/v1/enterprises/GYDEMO01/emissions'))

  await page.reload()
  const row = page.getByTestId('emission-table').locator('tbody tr', { hasText: 'a21026' })
  await expect(row).toContainText(after.total_t.toFixed(4) + ' t')
  await expect(row).toContainText(String(after.annual_total_t))
  await page.screenshot({ path: info.outputPath('enterprise.png'), fullPage: true })
})
