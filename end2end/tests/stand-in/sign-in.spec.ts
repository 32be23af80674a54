import { test, expect, APIRequestContext, Page } from '@playwright/test';

// Each test registers its own tenant, app and users (the stand-in keeps state between tests).
let run = 0;

interface Directory {
  tenant: string;
  clientId: string;
  redirect: string;
  mailbox: string;
  admin: string;
}

async function directory(request: APIRequestContext, baseURL: string): Promise<Directory> {
  run += 1;
  const suffix = `${Date.now()}-${run}`;
  const domain = `t${suffix}.example`;
  const tenant = await (await request.post('/_stand-in/tenants', { data: { domains: [domain] } })).json();
  const redirect = `${baseURL}/_stand-in/callback`;
  const app = await (await request.post('/_stand-in/apps', {
    data: { tenant_id: tenant.id, display_name: 'Tenant Mail', redirect_uris: [redirect] },
  })).json();
  const mailbox = `mailbox@${domain}`;
  const admin = `admin@${domain}`;
  for (const [upn, name] of [[mailbox, 'Shared Mailbox'], [admin, 'Adele Admin']]) {
    const r = await request.post('/_stand-in/users', {
      data: { tenant_id: tenant.id, upn, mail: upn, display_name: name },
    });
    expect(r.ok()).toBeTruthy();
  }
  return { tenant: tenant.id, clientId: app.client_id, redirect, mailbox, admin };
}

function authorizeUrl(d: Directory, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams({
    client_id: d.clientId,
    response_type: 'code',
    redirect_uri: d.redirect,
    scope: 'openid profile offline_access user.read mail.send',
    state: 'state-xyz',
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    code_challenge_method: 'S256',
    ...extra,
  });
  return `/common/oauth2/v2.0/authorize?${params}`;
}

async function signedIn(request: APIRequestContext, accounts: string[]) {
  const r = await request.put('/_stand-in/session', { data: { accounts } });
  expect(r.ok()).toBeTruthy();
}

async function callbackParams(page: Page): Promise<URLSearchParams> {
  await page.waitForURL(/\/_stand-in\/callback\?/);
  return new URL(page.url()).searchParams;
}

test('picker lists signed-in accounts; choosing one and accepting consent returns a code', async ({ page, request, baseURL }) => {
  const d = await directory(request, baseURL!);
  await signedIn(request, [d.admin, d.mailbox]);
  await page.goto(authorizeUrl(d));
  await expect(page.getByRole('heading', { name: 'Pick an account' })).toBeVisible();
  await expect(page.getByRole('button', { name: /Adele Admin/ })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Use another account' })).toBeVisible();
  await page.getByRole('button', { name: new RegExp(d.mailbox) }).click();
  await expect(page.getByRole('heading', { name: 'Permissions requested' })).toBeVisible();
  await expect(page.getByText('Mail.Send')).toBeVisible();
  await page.getByRole('button', { name: 'Accept' }).click();
  const params = await callbackParams(page);
  expect(params.get('code')).toBeTruthy();
  expect(params.get('state')).toBe('state-xyz');
  expect(params.get('session_state')).toBeTruthy();
});

test('login_hint with select_account lists the hinted account first and marks it', async ({ page, request, baseURL }) => {
  const d = await directory(request, baseURL!);
  await signedIn(request, [d.admin, d.mailbox]);
  await page.goto(authorizeUrl(d, { prompt: 'select_account', login_hint: d.mailbox }));
  const accounts = page.locator('button.account');
  await expect(accounts.first()).toContainText(d.mailbox);
  await expect(accounts.first()).toHaveAttribute('aria-current', 'true');
});

test('one signed-in account and no prompt: silently continues with it', async ({ page, request, baseURL }) => {
  const d = await directory(request, baseURL!);
  await request.post('/_stand-in/consent', { data: { client_id: d.clientId, tenant_id: d.tenant } });
  await signedIn(request, [d.admin]);
  await page.goto(authorizeUrl(d));
  const params = await callbackParams(page);
  expect(params.get('code')).toBeTruthy();
});

test('use another account, sign in, then cancel consent: access_denied AADSTS65004', async ({ page, request, baseURL }) => {
  const d = await directory(request, baseURL!);
  await signedIn(request, [d.admin]);
  await page.goto(authorizeUrl(d, { prompt: 'select_account', login_hint: d.mailbox }));
  await page.getByRole('button', { name: 'Use another account' }).click();
  await expect(page.getByLabel('Email, phone, or Skype')).toHaveValue(d.mailbox);
  await page.getByLabel('Password').fill('anything');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Cancel' }).click();
  const params = await callbackParams(page);
  expect(params.get('error')).toBe('access_denied');
  expect(params.get('error_description')).toMatch(/^AADSTS65004: User declined to consent/);
  expect(params.get('state')).toBe('state-xyz');
});

test('redirect URI mismatch shows AADSTS50011 and stays on the sign-in page', async ({ page, request, baseURL }) => {
  const d = await directory(request, baseURL!);
  await page.goto(authorizeUrl(d, { redirect_uri: 'https://wrong.example/cb' }));
  await expect(page.getByRole('alert')).toContainText('AADSTS50011');
  expect(page.url()).toContain('/oauth2/v2.0/authorize');
});
