import { APIRequestContext, expect, Page, test } from '@playwright/test';
import { createTenant, hydrated, uniqueName } from './helpers';

// The Microsoft stand-in (started by playwright.config.ts) plays Entra and Graph.
const STAND_IN = `http://127.0.0.1:${process.env.STAND_IN_PORT ?? 47990}`;

interface Directory { tenantId: string; clientId: string; secret: string; mailbox: string; other: string }

async function directory(request: APIRequestContext, baseURL: string): Promise<Directory> {
  const domain = `c${Date.now().toString(36)}.example`;
  const tenant = await (await request.post(`${STAND_IN}/_stand-in/tenants`, { data: { domains: [domain] } })).json();
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
  return { tenantId: tenant.id, clientId: app.client_id, secret: app.secrets[0].value, mailbox, other };
}

async function signInAs(page: Page, account: string) {
  await expect(page.getByRole('heading', { name: 'Pick an account' })).toBeVisible();
  await page.getByRole('button', { name: new RegExp(account.replace('.', '\\.')) }).click();
  // Microsoft asks for consent the first time only; then it is straight back to the app.
  const accept = page.getByRole('button', { name: 'Accept' });
  await expect
    .poll(async () => (await accept.isVisible()) || !page.url().startsWith(STAND_IN))
    .toBeTruthy();
  if (await accept.isVisible()) await accept.click();
}

test('connect: Click to Authenticate → Microsoft → validated → Click to RE Authenticate; wrong account refused', async ({ page, request, baseURL }) => {
  const d = await directory(request, baseURL!);
  await createTenant(page, uniqueName('Connect'));
  await page.getByRole('link', { name: 'Add' }).click();
  await hydrated(page);
  await page.getByLabel('Email address').fill(d.mailbox);
  await page.getByRole('tab', { name: 'OAuth2 Configuration' }).click();
  await page.getByLabel('Application ID').fill(d.clientId);
  await page.getByLabel('Secret key').fill(d.secret);
  await page.getByLabel('Authentication Authority URL').fill(`${STAND_IN}/${d.tenantId}`);
  const inTenDays = new Date(Date.now() + 10 * 86_400_000).toISOString().slice(0, 10);
  await page.getByLabel('Secret expires on (optional)').fill(inTenDays);
  await expect(page.locator('#stand-in-banner')).toContainText('local stand-in');

  // Not saved yet: the button says why it cannot be used.
  await expect(page.locator('#authenticate')).toBeDisabled();
  await expect(page.locator('#authenticate-reason')).toContainText('Save');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByText('Saved.')).toBeVisible();
  await expect(page.locator('#authenticate')).toBeEnabled();
  await expect(page.locator('#authenticate')).toHaveText('Click to Authenticate');
  await expect(page.locator('#secret-expiry')).toContainText('expires in 10 days');

  await page.locator('#authenticate').click();
  await signInAs(page, d.mailbox);
  await page.waitForURL(/\/emails\/[0-9a-f-]{36}\?connected=1$/);
  await expect(page.locator('#connect-success')).toContainText(d.mailbox);
  await expect(page.locator('#authenticate')).toHaveText('Click to RE Authenticate');
  await expect(page.locator('#connected-as')).toContainText(d.mailbox);
  await expect(page.locator('h1 .badge')).toHaveText('Connected');

  // Re-authenticate: stays connected.
  await hydrated(page);
  await page.locator('#authenticate').click();
  await signInAs(page, d.mailbox);
  await page.waitForURL(/\?connected=1$/);
  await expect(page.locator('#connect-success')).toBeVisible();
  await expect(page.locator('h1 .badge')).toHaveText('Connected');
  const emailUrl = page.url().replace('?connected=1', '');

  // The wrong account is refused and the working connection is kept.
  await hydrated(page);
  await page.locator('#authenticate').click();
  await signInAs(page, d.other);
  await expect(page.locator('body')).toContainText(`You signed in as ${d.other}`);
  await page.goto(emailUrl);
  await expect(page.locator('h1 .badge')).toHaveText('Connected');
  await expect(page.locator('#connected-as')).toContainText(d.mailbox);
});
