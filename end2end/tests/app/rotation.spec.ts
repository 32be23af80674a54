import { addTenantEmail, createTenant, directory, expect, hydrated, signInAs, STAND_IN, test, uniqueName } from './helpers';

// Secret rotation without downtime: the admin stores the next secret beside
// the one in use; when Microsoft refuses the current one (its end date
// passed), Tenant Mail moves to the next one on its own — the mailbox stays
// connected and a message sent right after goes out and comes back.

const day = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

test('next secret: stored beside the current one, checked, and taking over when the current one expires', async ({ page, baseURL, request }) => {
  const d = await directory(request, baseURL!);
  await createTenant(page, uniqueName('Rotation'));
  await addTenantEmail(page, d, { secretExpiresInDays: 20 });
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.locator('#authenticate')).toBeEnabled();
  await hydrated(page);
  await page.locator('#authenticate').click();
  await signInAs(page, d.mailbox);
  await page.waitForURL(/\?connected=1$/);
  await hydrated(page);

  await page.getByRole('tab', { name: 'OAuth2 Configuration' }).click();
  const panel = page.locator('#next-secret-panel');
  await expect(panel).toBeVisible();
  // Checked in the browser (WASM) before anything is sent.
  await panel.getByRole('button', { name: 'Store next secret' }).click();
  await expect(page.locator('#next_client_secret-error')).toContainText('Paste the client secret Value');
  // The server knows the secret in use: the same one again is refused on the field.
  await page.getByLabel('Next secret', { exact: true }).fill(d.secret);
  await panel.getByRole('button', { name: 'Store next secret' }).click();
  await expect(page.locator('#next_client_secret-error')).toContainText('already in use');

  // The admin creates a second secret in Azure and stores it here.
  const next = (await (await request.post(`${STAND_IN}/_stand-in/apps/${d.clientId}/secrets`, { data: {} })).json()).value as string;
  await page.getByLabel('Next secret', { exact: true }).fill(next);
  await page.getByLabel('Next secret ends on (optional)').fill(day(720));
  await panel.getByRole('button', { name: 'Store next secret' }).click();
  await expect(page.locator('#next-secret-status')).toContainText(`ends ${day(720)}`);
  await expect(page.getByLabel('Next secret', { exact: true })).toHaveCount(0);
  expect(await page.content()).not.toContain(next);

  await page.getByRole('button', { name: 'Check configuration' }).click();
  const line = page.locator('#doctor-report li[data-check="Next secret"]');
  await expect(line).toHaveAttribute('data-outcome', 'pass');
  await expect(line).toContainText('Microsoft accepts the next secret');
  if (process.env.SCREENSHOTS) {
    await page.setViewportSize({ width: 1100, height: 900 });
    await page.getByRole('tab', { name: 'OAuth2 Configuration' }).click();
    await panel.scrollIntoViewIfNeeded();
    await page.screenshot({ path: 'screenshots/next-secret.png' });
  }

  // The secret in use expires at Microsoft; the access token is due.
  expect((await request.post(`${STAND_IN}/_stand-in/apps/${d.clientId}/secrets/expire`, { data: { value: d.secret } })).ok()).toBeTruthy();
  expect((await request.post(`${STAND_IN}/_stand-in/users/${d.mailbox}/expire-access-tokens`)).ok()).toBeTruthy();
  await page.getByRole('button', { name: 'Send a message to itself' }).click();
  const trip = page.locator('#round-trip-report li');
  await expect(trip).toHaveAttribute('data-outcome', 'pass', { timeout: 40_000 });
  const ledger = await (await request.get(`${STAND_IN}/_stand-in/ledger`)).json();
  const refused = ledger.token_requests.filter((r: { client_id: string; error_code: number | null }) => r.client_id === d.clientId && r.error_code === 7000222);
  expect(refused.length).toBe(1);

  // Nobody had to sign in again; the next secret is now the one in use, with its end date.
  await page.reload();
  await hydrated(page);
  await expect(page.locator('.badge-connected').first()).toBeVisible();
  await page.getByRole('tab', { name: 'OAuth2 Configuration' }).click();
  await expect(page.getByLabel('Secret expires on (optional)')).toHaveValue(day(720));
  await expect(page.locator('#next-secret-status')).toHaveCount(0);

  // A next secret can be taken back.
  await page.getByLabel('Next secret', { exact: true }).fill('another~secret~value');
  await panel.getByRole('button', { name: 'Store next secret' }).click();
  await expect(page.locator('#next-secret-status')).toContainText('no end date recorded');
  await page.locator('#next-secret-remove').click();
  await expect(page.locator('#next-secret-status')).toHaveCount(0);
  await expect(page.getByLabel('Next secret', { exact: true })).toBeVisible();
});
