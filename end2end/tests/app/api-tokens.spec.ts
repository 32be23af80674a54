import { createTenant, expect, hydrated, test, uniqueName } from './helpers';

test('create an API token (shown once), use it on /v1, revoke it', async ({ page, request }) => {
  await createTenant(page, uniqueName('API'));
  await hydrated(page);
  await page.getByRole('tab', { name: 'API tokens' }).click();
  await expect(page.getByText('No API tokens yet.')).toBeVisible();

  // The name is checked in the browser first.
  await page.getByRole('button', { name: 'New token' }).click();
  await expect(page.locator('.field-error').first()).not.toBeEmpty();

  await page.getByLabel('New token name').fill('Helpdesk app');
  await page.getByRole('button', { name: 'New token' }).click();
  const value = (await page.locator('#new-token-value').textContent())!.trim();
  expect(value).toMatch(/^tm_[A-Za-z0-9_-]{40,}$/);
  await expect(page.locator('#new-token')).toContainText('not be shown again');
  const row = page.locator('#api-tokens-table tbody tr').first();
  await expect(row).toContainText('Helpdesk app');
  await expect(row).toContainText(`${value.slice(0, 8)}…`);

  // The token works on the host API (an unknown mailbox is 404, not 401) …
  const unknown = '00000000-0000-4000-8000-000000000000';
  const ok = await request.get(`/v1/messages/${unknown}`, { headers: { Authorization: `Bearer ${value}` } });
  expect(ok.status()).toBe(404);
  // … and is shown only once: after a reload only its prefix is left.
  await page.reload();
  await hydrated(page);
  await page.getByRole('tab', { name: 'API tokens' }).click();
  await expect(page.getByText(value)).toHaveCount(0);

  await page.locator('#api-tokens-table tbody tr').first().getByRole('button', { name: 'Revoke' }).click();
  await page.getByRole('group', { name: 'Confirm revoke' }).getByRole('button', { name: 'Revoke' }).click();
  await expect(page.locator('#api-tokens-table tbody tr').first().getByRole('button', { name: 'Revoke' })).toHaveCount(0);
  const refused = await request.get(`/v1/messages/${unknown}`, { headers: { Authorization: `Bearer ${value}` } });
  expect(refused.status()).toBe(401);
  expect(refused.headers()['www-authenticate']).toContain('Bearer');
});
