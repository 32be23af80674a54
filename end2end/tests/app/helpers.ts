import { APIRequestContext, expect, Page, Request, test as base } from '@playwright/test';

// The admin the app's webServer command creates with `tenant-mail admin create`
// (test-only credentials; see playwright.config.ts).
export const ADMIN = 'e2e-admin';
export const ADMIN_PASSWORD = 'e2e admin passphrase only for tests';
export const AUTH_FILE = '.auth/admin.json';

/**
 * Every app test fails on a Content-Security-Policy violation: the policy must
 * allow exactly what the app does (hydration script, WASM), nothing more.
 */
export const test = base.extend<{ cspGuard: void }>({
  cspGuard: [
    async ({ page }, use) => {
      const violations: string[] = [];
      page.on('console', (m) => {
        if (/Content Security Policy|Content-Security-Policy/i.test(m.text())) violations.push(m.text());
      });
      await use();
      expect(violations, 'CSP violations').toEqual([]);
    },
    { auto: true },
  ],
});
export { expect };

/** Fills and submits the sign-in form on the current page. */
export async function signIn(page: Page, username = ADMIN, password = ADMIN_PASSWORD) {
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

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

// The Microsoft stand-in (started by playwright.config.ts) plays Entra and Graph.
export const STAND_IN = `http://127.0.0.1:${process.env.STAND_IN_PORT ?? 47990}`;

export interface Directory { tenantId: string; tenantName: string; clientId: string; secret: string; mailbox: string; other: string }

export async function directory(request: APIRequestContext, baseURL: string): Promise<Directory> {
  const domain = `c${Date.now().toString(36)}.example`;
  const tenantName = `Contoso ${domain}`;
  const tenant = await (await request.post(`${STAND_IN}/_stand-in/tenants`, { data: { domains: [domain], display_name: tenantName } })).json();
  const app = await (await request.post(`${STAND_IN}/_stand-in/apps`, {
    data: { tenant_id: tenant.id, display_name: 'Tenant Mail', redirect_uris: [`${baseURL}/core/oauth2/validated`] },
  })).json();
  const mailbox = `helpdesk@${domain}`;
  const other = `adele@${domain}`;
  for (const [upn, name] of [[mailbox, 'Helpdesk'], [other, 'Adele Admin']]) {
    expect((await request.post(`${STAND_IN}/_stand-in/users`, { data: { tenant_id: tenant.id, upn, mail: upn, display_name: name } })).ok()).toBeTruthy();
  }
  // The admin's browser is already signed in to their own account too: the classic wrong-account trap.
  expect((await request.put(`${STAND_IN}/_stand-in/session`, { data: { accounts: [other, mailbox] } })).ok()).toBeTruthy();
  return { tenantId: tenant.id, tenantName, clientId: app.client_id, secret: app.secrets[0].value, mailbox, other };
}

/**
 * On a tenant's page: Add → the mailbox of `d`, its app's credentials and the
 * stand-in's authority, optionally a secret expiry `secretExpiresInDays` from
 * today. Not saved: each test adds what it needs, then saves.
 */
export async function addTenantEmail(page: Page, d: Directory, opts: { secretExpiresInDays?: number } = {}) {
  await page.getByRole('link', { name: 'Add' }).click();
  await hydrated(page);
  await page.getByLabel('Email address').fill(d.mailbox);
  await page.getByRole('tab', { name: 'OAuth2 Configuration' }).click();
  await page.getByLabel('Application ID').fill(d.clientId);
  await page.getByLabel('Secret key').fill(d.secret);
  await page.getByLabel('Authentication Authority URL').fill(`${STAND_IN}/${d.tenantId}`);
  if (opts.secretExpiresInDays !== undefined) {
    const day = new Date(Date.now() + opts.secretExpiresInDays * 86_400_000).toISOString().slice(0, 10);
    await page.getByLabel('Secret expires on (optional)').fill(day);
  }
}

export async function signInAs(page: Page, account: string) {
  await expect(page.getByRole('heading', { name: 'Pick an account' })).toBeVisible();
  await page.getByRole('button', { name: new RegExp(account.replace('.', '\\.')) }).click();
  // Microsoft asks for consent the first time only; then it is straight back to the app.
  const accept = page.getByRole('button', { name: 'Accept' });
  await expect
    .poll(async () => (await accept.isVisible()) || !page.url().startsWith(STAND_IN))
    .toBeTruthy();
  if (await accept.isVisible()) await accept.click();
}

