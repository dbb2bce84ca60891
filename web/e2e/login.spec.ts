// Login (issue #8 §4): a wrong password is refused with a message; the right one opens the
// dashboard; logging out ends the session.
import { expect, test } from '@playwright/test'
import { USERS } from './users'
import { base, login } from './util'

test('a wrong password is refused and the right one logs in', async ({ page }, info) => {
  await page.goto(base() + '/console/')
  await expect(page).toHaveURL(/\/console\/login/)
  await page.getByTestId('login-name').fill(USERS.analyst.name)
  await page.getByTestId('login-password').fill('not-the-password-1A')
  await page.getByTestId('login-submit').click()
  await expect(page.getByTestId('login-error')).toContainText('用户名或密码错误')
  await expect(page).toHaveURL(/\/console\/login/)
  await page.screenshot({ path: info.outputPath('login-refused.png') })

  await login(page, USERS.analyst)
  await expect(page).toHaveURL(/\/console\/map/)
  // The session is an HttpOnly cookie: scripts on the page cannot read it.
  expect(await page.evaluate(() => document.cookie)).not.toContain('ecomon_session')

  await page.getByTestId('logout').click()
  await expect(page).toHaveURL(/\/console\/login/)
  const me = await page.request.get(base() + '/api/v1/me')
  expect(me.status()).toBe(401)
})
