import { expect, Page } from '@playwright/test'

export function base(): string {
  const b = process.env.E2E_BASE_URL
  if (!b) throw new Error('E2E_BASE_URL is not set (global-setup.ts)')
  return b
}

export async function login(page: Page, user: { name: string; password: string }) {
  await page.goto(base() + '/console/login')
  await page.getByTestId('login-name').fill(user.name)
  await page.getByTestId('login-password').fill(user.password)
  await page.getByTestId('login-submit').click()
  await expect(page.getByTestId('who')).toContainText(user.name)
}

// The API as the logged-in page sees it (the page's cookie travels with page.request).
export async function apiGet(page: Page, path: string) {
  const r = await page.request.get(base() + path)
  expect(r.status(), path).toBe(200)
  return r.json()
}
