import { expect, Page, Request } from '@playwright/test';

/** Waits until the WASM bundle has hydrated the server-rendered page. */
export async function hydrated(page: Page) {
  await expect(page.locator('body[data-hydrated="true"]')).toHaveCount(1);
}

export function uniqueName(prefix: string) {
  return `${prefix} ${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
}

/** Records every request the page makes from now on. */
export function recordRequests(page: Page) {
  const seen: Request[] = [];
  const handler = (r: Request) => seen.push(r);
  page.on('request', handler);
  return {
    urls: () => seen.map((r) => r.url()),
    stop: () => page.off('request', handler),
  };
}

/** Creates a tenant through the UI and returns to the list. */
export async function createTenant(page: Page, name: string) {
  await page.goto('/admin/tenants');
  await hydrated(page);
  await page.getByRole('button', { name: 'New tenant' }).click();
  await page.getByLabel('Tenant name').fill(name);
  await page.getByRole('button', { name: 'Create tenant' }).click();
  await expect(page.getByRole('heading', { level: 1, name })).toBeVisible();
}

export const SCOPES = 'openid profile offline_access user.read mail.read mail.send mail.readwrite';
export const APP_ID = '79c6ff55-b7e0-4517-bfd7-b4fffb6fee40';
