import { APP_ID, createTenant, hydrated, recordRequests, SCOPES, uniqueName, expect, test } from './helpers';

test('create a tenant, open it by double-click, add a tenant email, fix scopes client-side, save, reload', async ({ page, baseURL }) => {
  const tenant = uniqueName('Contoso');
  const address = `helpdesk-${Date.now()}@contoso.com`;
  const secret = `Canary~${Math.random().toString(36).slice(2)}X9q-secret-value`;

  // Everything the server sends back is kept, to prove the secret is never in it.
  const bodies: string[] = [];
  page.on('response', async (r) => {
    const type = r.headers()['content-type'] ?? '';
    if (r.url().includes('/api/') || type.includes('html') || type.includes('json')) {
      bodies.push(await r.text().catch(() => ''));
    }
  });

  await createTenant(page, tenant);
  await page.goto('/admin/tenants');
  await hydrated(page);
  const row = page.locator('#tenants-table tr', { hasText: tenant });
  await expect(row).toBeVisible();
  await row.dblclick();
  await expect(page).toHaveURL(/\/admin\/tenants\/[0-9a-f-]{36}$/);
  await expect(page.getByRole('tab', { name: 'Tenant Emails' })).toHaveAttribute('aria-selected', 'true');

  await page.getByRole('link', { name: 'Add' }).click();
  await expect(page.getByRole('heading', { name: 'Add Tenant Email' })).toBeVisible();
  await hydrated(page);
  await expect(page.getByLabel('Account Type')).toHaveValue('microsoft365_graph');
  await page.getByLabel('Email address').fill(address);
  await page.getByRole('tab', { name: 'OAuth2 Configuration' }).click();
  await page.getByLabel('Application ID').fill(APP_ID);
  await page.getByLabel('Secret key').fill(secret);
  await expect(page.getByLabel('Authorization Endpoint')).toHaveValue('/oauth2/v2.0/authorize');
  await expect(page.getByLabel('Token Request Endpoint')).toHaveValue('/oauth2/v2.0/token');
  await expect(page.locator('#redirect_uri')).toHaveValue(`${baseURL}/core/oauth2/validated`);

  // The Tenant ID helper fills the authority.
  await page.getByLabel('Tenant ID helper').fill(APP_ID);
  await page.getByRole('button', { name: 'Fill authority' }).click();
  await expect(page.getByLabel('Authentication Authority URL')).toHaveValue(`https://login.microsoftonline.com/${APP_ID}`);

  // A line break in Scopes: the message comes from WASM, with no request at all.
  const requests = recordRequests(page);
  await page.getByLabel('Scopes').fill('openid profile offline_access\nuser.read mail.read mail.send mail.readwrite');
  await expect(page.locator('#scopes-error')).toContainText('single line');
  await expect(page.locator('#scopes-fixed')).toHaveText(SCOPES);
  await page.getByLabel('Scopes').blur();
  await page.waitForTimeout(300);
  expect(requests.urls(), 'client-side validation must not call the server').toEqual([]);
  requests.stop();

  await page.getByRole('button', { name: 'Fix scopes' }).click();
  await expect(page.getByLabel('Scopes')).toHaveValue(SCOPES);
  await expect(page.locator('#scopes-error')).toBeEmpty();

  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Saved.' })).toBeVisible();
  await expect(page).toHaveURL(/\/emails\/[0-9a-f-]{36}$/);

  await page.reload();
  await hydrated(page);
  await expect(page.getByRole('heading', { level: 1 })).toContainText(address);
  await expect(page.getByLabel('Email address')).toHaveValue(address);
  await page.getByRole('tab', { name: 'OAuth2 Configuration' }).click();
  await expect(page.getByLabel('Application ID')).toHaveValue(APP_ID);
  await expect(page.getByLabel('Scopes')).toHaveValue(SCOPES);
  await expect(page.locator('#secret-status')).toContainText('Secret set on');
  await expect(page.getByRole('button', { name: 'Replace' })).toBeVisible();
  await expect(page.locator('.badge-not_authenticated')).toHaveText('Not authenticated');

  expect(await page.content()).not.toContain(secret);
  expect(bodies.length).toBeGreaterThan(3);
  for (const body of bodies) expect(body).not.toContain(secret);

  // Back on the tenant, the new email is listed with its status.
  await page.locator('#back-to-tenant').click();
  const emailRow = page.locator('#emails-table tr', { hasText: address });
  await expect(emailRow).toContainText('Microsoft 365 — user mailbox (delegated)');
  await expect(emailRow).toContainText('Not authenticated');
});

test('Save is refused with field messages and no request when fields are invalid', async ({ page }) => {
  const tenant = uniqueName('Refused');
  await createTenant(page, tenant);
  await page.getByRole('link', { name: 'Add' }).click();
  await hydrated(page);
  const requests = recordRequests(page);
  await page.getByLabel('Email address').fill('not-an-address');
  await page.getByLabel('Email address').blur();
  await expect(page.locator('#address-error')).toContainText('mailbox address');
  await page.getByRole('button', { name: 'Save' }).click();
  // The first tab with a problem stays in front; the other tab shows it has errors too.
  await expect(page.getByRole('tab', { name: /General/ })).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByRole('tab', { name: /OAuth2 Configuration/ })).toHaveClass(/tab-error/);
  await page.getByRole('tab', { name: /OAuth2 Configuration/ }).click();
  await expect(page.locator('#application_id-error')).toContainText('Application (client) ID');
  await expect(page.locator('#client_secret-error')).toContainText('secret');
  await page.getByLabel('Secret key').fill('79c6ff55-b7e0-4517-bfd7-b4fffb6fee40');
  await page.getByLabel('Secret key').blur();
  await expect(page.locator('#client_secret-error')).toContainText('Secret ID');
  await page.getByLabel('Authentication Authority URL').fill('https://login.evil.example/common');
  await page.getByLabel('Authentication Authority URL').blur();
  await expect(page.locator('#authority_url-error')).toContainText('not a Microsoft sign-in host');
  expect(requests.urls().filter((u) => u.includes('/api/'))).toEqual([]);
});

test('keyboard: Enter on a focused tenant row opens it', async ({ page }) => {
  const tenant = uniqueName('Keyboard');
  await createTenant(page, tenant);
  await page.goto('/admin/tenants');
  await hydrated(page);
  await page.locator('#tenants-table tr', { hasText: tenant }).focus();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { level: 1, name: tenant })).toBeVisible();
});

async function addEmail(page, address: string) {
  await page.getByRole('link', { name: 'Add' }).click();
  await hydrated(page);
  await page.getByLabel('Email address').fill(address);
  await page.getByRole('tab', { name: 'OAuth2 Configuration' }).click();
  await page.getByLabel('Application ID').fill(APP_ID);
  await page.getByLabel('Secret key').fill('Zz~first-secret-value-0123456789');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page).toHaveURL(/\/emails\/[0-9a-f-]{36}$/);
}

test('a concurrent save is reported as a conflict instead of overwriting', async ({ page, context }) => {
  const tenant = uniqueName('Conflict');
  await createTenant(page, tenant);
  await addEmail(page, `desk-${Date.now()}@contoso.com`);
  const url = page.url();
  const other = await context.newPage();
  await other.goto(url);
  await hydrated(other);
  await page.goto(url);
  await hydrated(page);

  await other.getByLabel('Direction').selectOption('send');
  await other.getByRole('button', { name: 'Save' }).click();
  await expect(other.getByText('Saved.')).toBeVisible();

  await page.getByLabel('Direction').selectOption('receive');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'Someone else saved this Tenant Email' })).toBeVisible();
  await page.reload();
  await expect(page.getByLabel('Direction')).toHaveValue('send');
});

test('replacing the secret is explicit, and an empty secret keeps the stored one', async ({ page }) => {
  const tenant = uniqueName('Secret');
  await createTenant(page, tenant);
  await addEmail(page, `secret-${Date.now()}@contoso.com`);
  await page.reload();
  await hydrated(page);
  await page.getByRole('tab', { name: 'OAuth2 Configuration' }).click();
  const before = await page.locator('#secret-status').textContent();
  await page.getByRole('button', { name: 'Replace' }).click();
  await expect(page.getByLabel('Secret key')).toHaveValue('');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.locator('#client_secret-error')).toContainText('Paste the client secret');
  await page.getByRole('button', { name: 'Keep current secret' }).click();
  await expect(page.locator('#secret-status')).toHaveText(before ?? '');
});

test('unsaved changes: leaving through an in-app link asks first', async ({ page }) => {
  const tenant = uniqueName('Unsaved');
  await createTenant(page, tenant);
  await addEmail(page, `unsaved-${Date.now()}@contoso.com`);
  await page.reload();
  await hydrated(page);
  await page.getByLabel('Email address').fill('changed@contoso.com');
  await expect(page.getByText('Unsaved changes')).toBeVisible();
  let asked = '';
  page.once('dialog', async (d) => {
    asked = d.message();
    await d.dismiss();
  });
  await page.locator('#back-to-tenant').click();
  expect(asked).toContain('unsaved changes');
  await expect(page.getByLabel('Email address')).toHaveValue('changed@contoso.com');
});

test('delete a tenant email after confirming', async ({ page }) => {
  const tenant = uniqueName('Delete');
  const address = `gone-${Date.now()}@contoso.com`;
  await createTenant(page, tenant);
  await addEmail(page, address);
  await page.locator('#back-to-tenant').click();
  const row = page.locator('#emails-table tr', { hasText: address });
  await row.getByRole('button', { name: 'Delete' }).click();
  await row.getByRole('group', { name: 'Confirm delete' }).getByRole('button', { name: 'Cancel' }).click();
  await expect(row).toBeVisible();
  await row.getByRole('button', { name: 'Delete' }).click();
  await row.getByRole('group', { name: 'Confirm delete' }).getByRole('button', { name: 'Delete' }).click();
  await expect(page.locator('#emails-table tr', { hasText: address })).toHaveCount(0);
});

test('the Cloud decides the sign-in host: another cloud\'s authority and Graph scopes are refused as typed, fixed in one click, saved', async ({ page }) => {
  await createTenant(page, uniqueName('Contoso US Gov'));
  await page.getByRole('link', { name: 'Add' }).click();
  await hydrated(page);
  await page.getByLabel('Email address').fill(`desk-${Date.now()}@contoso.us`);
  await page.getByRole('tab', { name: 'OAuth2 Configuration' }).click();
  await expect(page.getByLabel('Cloud')).toHaveValue('global');
  await page.getByLabel('Application ID').fill(APP_ID);
  await page.getByLabel('Secret key').fill('Gov~secret-value-0123456789abcdef');
  await page.getByLabel('Tenant ID helper').fill(APP_ID);
  await page.getByRole('button', { name: 'Fill authority' }).click();
  await expect(page.getByLabel('Authentication Authority URL')).toHaveValue(`https://login.microsoftonline.com/${APP_ID}`);

  // Choosing GCC High: the global authority is refused at once, in WASM, without a request.
  const requests = recordRequests(page);
  await page.getByLabel('Cloud').selectOption('us_gov');
  await expect(page.locator('#authority_url-error')).toContainText('GCC High');
  await expect(page.locator('#authority-fixed')).toHaveText(`https://login.microsoftonline.us/${APP_ID}`);
  // A scope written with the global Graph is refused too.
  await page.getByLabel('Scopes').fill(`${SCOPES} https://graph.microsoft.com/Mail.ReadBasic`);
  await expect(page.locator('#scopes-error')).toContainText('https://graph.microsoft.us/mail.readbasic');
  await page.waitForTimeout(300);
  expect(requests.urls(), 'client-side validation must not call the server').toEqual([]);
  requests.stop();
  await page.getByLabel('Scopes').fill(SCOPES);
  await expect(page.locator('#scopes-error')).toBeEmpty();
  await page.getByRole('button', { name: 'Use it' }).click();
  await expect(page.getByLabel('Authentication Authority URL')).toHaveValue(`https://login.microsoftonline.us/${APP_ID}`);
  await expect(page.locator('#authority_url-error')).toBeEmpty();
  // The Tenant ID helper now fills the GCC High authority.
  await page.getByRole('button', { name: 'Fill authority' }).click();
  await expect(page.getByLabel('Authentication Authority URL')).toHaveValue(`https://login.microsoftonline.us/${APP_ID}`);

  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Saved.' })).toBeVisible();
  await page.reload();
  await hydrated(page);
  await page.getByRole('tab', { name: 'OAuth2 Configuration' }).click();
  await expect(page.getByLabel('Cloud')).toHaveValue('us_gov');
  await expect(page.getByLabel('Authentication Authority URL')).toHaveValue(`https://login.microsoftonline.us/${APP_ID}`);
  // Back to the global cloud: refused again until the authority follows.
  await page.getByLabel('Cloud').selectOption('global');
  await expect(page.locator('#authority_url-error')).toContainText('the global cloud');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('tab', { name: /OAuth2 Configuration/ })).toHaveClass(/tab-error/);
});
