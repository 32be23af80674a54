import { createTenant, directory, hydrated, signInAs, STAND_IN, expect, test } from './helpers';

// Mailboxes as organisations run them: an application's own access (client
// credentials, Check access) and a shared mailbox signed in by its delegate.
// Each is configured through the editor, connected against the stand-in, and
// proven by a message sent to itself that goes out and comes back in.

test('application mailbox: Check access explains what is missing, then connects; mail goes out and comes back', async ({ page, baseURL, request }) => {
  const d = await directory(request, baseURL!);
  await createTenant(page, `App ${d.tenantName}`);
  await page.getByRole('link', { name: 'Add' }).click();
  await hydrated(page);
  await page.getByLabel('Account Type').selectOption('microsoft365_app');
  await page.getByLabel('Email address').fill(d.mailbox);
  await page.getByRole('tab', { name: 'OAuth2 Configuration' }).click();
  // No one signs in: no scopes, no redirect URI; the application permissions are named instead.
  await expect(page.locator('#app-permissions')).toContainText('/.default');
  await expect(page.getByLabel('Scopes')).toHaveCount(0);
  await expect(page.locator('#redirect_uri')).toBeHidden();
  await page.getByLabel('Application ID').fill(d.clientId);
  await page.getByLabel('Secret key').fill(d.secret);
  await page.getByLabel('Authentication Authority URL').fill(`${STAND_IN}/common`);
  await page.getByLabel('Authentication Authority URL').blur();
  await expect(page.locator('#authority_url-error')).toContainText('AADSTS9001023');
  await page.getByLabel('Authentication Authority URL').fill(`${STAND_IN}/${d.tenantId}`);
  await expect(page.locator('#authority_url-error')).toBeEmpty();
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Saved.' })).toBeVisible();
  await hydrated(page);
  await expect(page.locator('#authenticate')).toBeHidden();

  // The app has no application permission yet: the read is refused, and the fix says what to grant.
  await page.locator('#check-access').click();
  const read = page.locator('#access-report li[data-check="Reading the mailbox"]');
  await expect(read).toHaveAttribute('data-outcome', 'fail');
  await expect(read).toContainText('application permissions Mail.ReadWrite and Mail.Send');
  await expect(page.locator('#access-report li[data-check="App-only token"]')).toHaveAttribute('data-outcome', 'pass');
  if (process.env.SCREENSHOTS) {
    await page.setViewportSize({ width: 1100, height: 820 });
    await page.locator('#access-report').scrollIntoViewIfNeeded();
    await page.screenshot({ path: 'screenshots/check-access.png' });
  }

  // The tenant's administrator grants them: Check access connects the mailbox.
  expect((await request.post(`${STAND_IN}/_stand-in/apps/${d.clientId}/app-permissions`, {
    data: { permissions: ['Mail.ReadWrite', 'Mail.Send'] },
  })).ok()).toBeTruthy();
  await page.locator('#check-access').click();
  await page.waitForURL(/\?connected=1$/);
  await hydrated(page);
  await expect(page.locator('#connected-as')).toContainText(`${d.mailbox} (app ${d.clientId})`);
  await expect(page.locator('.badge-connected').first()).toBeVisible();

  await page.getByRole('button', { name: 'Send a message to itself' }).click();
  const trip = page.locator('#round-trip-report li');
  await expect(trip).toHaveAttribute('data-outcome', 'pass', { timeout: 70_000 });
  await expect(trip).toContainText('received back');
  const ledger = await (await request.get(`${STAND_IN}/_stand-in/ledger`)).json();
  const calls: { path: string; mailbox: string }[] = ledger.graph_requests.filter((r: { mailbox: string }) => r.mailbox === d.mailbox);
  expect(calls.length).toBeGreaterThan(0);
  expect(calls.every((r) => r.path.includes('/users/') || r.path.includes('/subscriptions'))).toBeTruthy();
});

test('shared mailbox: the delegate signs in, mail goes out from the shared mailbox into its own Sent Items and comes back', async ({ page, baseURL, request }) => {
  const d = await directory(request, baseURL!);
  const shared = `support@${d.mailbox.split('@')[1]}`;
  expect((await request.post(`${STAND_IN}/_stand-in/users`, {
    data: { tenant_id: d.tenantId, upn: shared, mail: shared, display_name: 'Support', shared: true },
  })).ok()).toBeTruthy();
  expect((await request.put(`${STAND_IN}/_stand-in/users/${shared}/permissions/${d.mailbox}`, {
    data: { full_access: true, send_as: true },
  })).ok()).toBeTruthy();

  await createTenant(page, `Shared ${d.tenantName}`);
  await page.getByRole('link', { name: 'Add' }).click();
  await hydrated(page);
  await page.getByLabel('Account Type').selectOption('microsoft365_shared');
  await page.getByLabel('Email address').fill(shared);
  await page.getByLabel('Delegate (who signs in)').fill(shared);
  await page.getByLabel('Delegate (who signs in)').blur();
  await expect(page.locator('#delegate-error')).toContainText('another address');
  await page.getByLabel('Delegate (who signs in)').fill(d.mailbox);
  await expect(page.locator('#delegate-error')).toBeEmpty();
  await page.getByRole('tab', { name: 'OAuth2 Configuration' }).click();
  await page.getByLabel('Application ID').fill(d.clientId);
  await page.getByLabel('Secret key').fill(d.secret);
  await page.getByLabel('Authentication Authority URL').fill(`${STAND_IN}/${d.tenantId}`);
  // The user mailbox's scopes do not reach a shared mailbox: refused, with the one-click fix.
  await expect(page.locator('#scopes-error')).toContainText('mail.send.shared');
  await page.getByRole('button', { name: 'Use these scopes' }).click();
  await expect(page.getByLabel('Scopes')).toHaveValue(/mail\.send\.shared/);
  await expect(page.locator('#scopes-error')).toBeEmpty();
  await page.getByRole('tab', { name: 'Receiving' }).click();
  await page.getByLabel('How new mail is noticed').selectOption('notify');
  await expect(page.locator('#arrival-error')).toContainText('shared mailbox');
  await page.getByLabel('How new mail is noticed').selectOption('poll');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Saved.' })).toBeVisible();

  // The delegate signs in (login_hint is the delegate, not the shared mailbox).
  await hydrated(page);
  await page.locator('#authenticate').click();
  await signInAs(page, d.mailbox);
  await page.waitForURL(/\?connected=1$/);
  await hydrated(page);
  await expect(page.locator('#connected-as')).toContainText(`for ${shared}`);

  await page.getByRole('button', { name: 'Send a message to itself' }).click();
  const trip = page.locator('#round-trip-report li');
  await expect(trip).toHaveAttribute('data-outcome', 'pass', { timeout: 70_000 });
  await expect(trip).toContainText('received back');
  const ledger = await (await request.get(`${STAND_IN}/_stand-in/ledger`)).json();
  expect(ledger.sent.some((m: { mailbox: string }) => m.mailbox === shared)).toBeTruthy();
  expect(ledger.sent.some((m: { mailbox: string }) => m.mailbox === d.mailbox)).toBeFalsy();
});

test('certificate credential: made by Tenant Mail, downloaded as .cer, uploaded, then the sign-in uses it instead of a secret', async ({ page, baseURL, request }) => {
  const d = await directory(request, baseURL!);
  await createTenant(page, `Certificate ${d.tenantName}`);
  await page.getByRole('link', { name: 'Add' }).click();
  await hydrated(page);
  await page.getByLabel('Email address').fill(d.mailbox);
  await page.getByRole('tab', { name: 'OAuth2 Configuration' }).click();
  await page.getByLabel('Application ID').fill(d.clientId);
  await page.getByLabel('Credential').selectOption('certificate');
  // No secret is asked for; the certificate is made once the Tenant Email exists.
  await expect(page.getByLabel('Secret key')).toHaveCount(0);
  await expect(page.locator('#create-certificate')).toBeDisabled();
  await page.getByLabel('Authentication Authority URL').fill(`${STAND_IN}/${d.tenantId}`);
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Saved.' })).toBeVisible();
  await hydrated(page);
  await page.getByRole('tab', { name: 'OAuth2 Configuration' }).click();
  await page.locator('#create-certificate').click();
  await expect(page.locator('#certificate-thumbprint')).toHaveText(/^[0-9A-F]{40}$/);
  await expect(page.locator('#certificate-expires')).toContainText('in 730 days');
  const thumbprint = await page.locator('#certificate-thumbprint').innerText();

  const downloading = page.waitForEvent('download');
  await page.locator('#certificate-download').click();
  const file = await downloading;
  expect(file.suggestedFilename()).toMatch(/\.cer$/);
  const pem = (await (await import('fs')).promises.readFile(await file.path())).toString();
  expect(pem).toContain('-----BEGIN CERTIFICATE-----');
  expect(pem).not.toContain('PRIVATE');
  if (process.env.SCREENSHOTS) {
    await page.setViewportSize({ width: 1100, height: 820 });
    await page.locator('#certificate-panel').scrollIntoViewIfNeeded();
    await page.screenshot({ path: 'screenshots/certificate.png' });
  }

  // The tenant's admin uploads it to the app registration; the sign-in then proves the app with it.
  const uploaded = await (await request.post(`${STAND_IN}/_stand-in/apps/${d.clientId}/certificates`, { data: { certificate: pem } })).json();
  expect(uploaded.thumbprint_sha1).toBe(thumbprint);
  await page.locator('#authenticate').click();
  await signInAs(page, d.mailbox);
  await page.waitForURL(/\?connected=1$/);
  const ledger = await (await request.get(`${STAND_IN}/_stand-in/ledger`)).json();
  const redeemed = ledger.token_requests.filter((r: { client_id: string; grant_type: string; status: number }) => r.client_id === d.clientId && r.grant_type === 'authorization_code' && r.status === 200);
  expect(redeemed.length).toBeGreaterThan(0);
  expect(redeemed.every((r: { client_auth: string }) => r.client_auth === 'assertion')).toBeTruthy();
});
