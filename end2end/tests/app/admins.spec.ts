import { readFileSync } from 'node:fs';
import { expect, hydrated, recordRequests, test, uniqueName } from './helpers';

test('add an admin (validated in the browser first), disable them, and find it all in the audit log', async ({ page }) => {
  const name = uniqueName('ops').replace(/\s+/g, '-').toLowerCase();
  await page.goto('/admin/admins');
  await hydrated(page);
  await expect(page.locator('#admins tr[data-username="e2e-admin"]')).toContainText('(you)');

  // Client-side (WASM) validation: no request leaves for bad input.
  const requests = recordRequests(page);
  await page.getByLabel('Username', { exact: true }).fill(name);
  await page.locator('#new-admin-password').fill('short');
  await page.locator('#new-admin-password-confirm').fill('different');
  await page.getByRole('button', { name: 'Add admin' }).click();
  await expect(page.locator('#new-admin-password-error')).toContainText('at least 12 characters');
  await expect(page.locator('#new-admin-password-confirm-error')).toContainText('differ');
  expect(requests.urls().filter((u) => u.includes('/api/add_admin'))).toEqual([]);

  await page.locator('#new-admin-password').fill('a long enough passphrase');
  await page.locator('#new-admin-password-confirm').fill('a long enough passphrase');
  await page.getByRole('button', { name: 'Add admin' }).click();
  await expect(page.getByText(`Admin ${name} added.`)).toBeVisible();
  const row = page.locator(`#admins tr[data-username="${name}"]`);
  await expect(row).toContainText('Active');
  await row.getByRole('button', { name: 'Disable' }).click();
  await expect(row).toContainText('Disabled');

  // The server's answer for a duplicate lands on the field too.
  await page.getByLabel('Username', { exact: true }).fill(name.toUpperCase());
  await page.locator('#new-admin-password').fill('a long enough passphrase');
  await page.locator('#new-admin-password-confirm').fill('a long enough passphrase');
  await page.getByRole('button', { name: 'Add admin' }).click();
  await expect(page.locator('#new-admin-username-error')).toContainText('already exists');

  // Wrong current password: a field message, nothing changes.
  await page.locator('#current-password').fill('not my password at all');
  await page.locator('#change-password-new').fill('another long passphrase');
  await page.locator('#change-password-confirm').fill('another long passphrase');
  await page.getByRole('button', { name: 'Change password' }).click();
  await expect(page.locator('#current-password-error')).toContainText('not your current password');

  await page.getByRole('link', { name: 'Audit log' }).click();
  await expect(page).toHaveURL(/\/admin\/audit$/);
  await hydrated(page);
  await page.getByLabel('Action').selectOption({ label: 'Admin accounts' });
  await page.getByLabel('Target or detail contains').fill(name);
  await page.getByRole('button', { name: 'Apply' }).click();
  await expect(page.locator('#audit tbody tr[data-action="admin.created"]')).toHaveCount(1);
  await expect(page.locator('#audit tbody tr[data-action="admin.disabled"]')).toHaveCount(1);
  await expect(page.locator('#audit tbody tr').first()).toContainText('e2e-admin');

  // The same filter, downloaded as CSV: the same two entries, nothing else.
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Download CSV' }).click(),
  ]);
  expect(download.suggestedFilename()).toMatch(/^tenant-mail-audit-\d{8}-\d{6}\.csv$/);
  const csv = readFileSync(await download.path(), 'utf8').trim().split('\n');
  expect(csv[0]).toBe('id,time_utc,admin,action,outcome,target,detail,address,request_id');
  const actions = csv.slice(1).map((line) => line.split(',')[3]).sort();
  expect(actions).toEqual(['admin.created', 'admin.disabled']);
  expect(csv.every((line) => line === csv[0] || line.includes(name))).toBe(true);

  await page.getByLabel('Target or detail contains').fill('');
  await page.getByLabel('Failures only').check();
  await page.getByRole('button', { name: 'Apply' }).click();
  await expect(page.locator('#audit tbody tr[data-action="admin.password_changed"]').first()).toContainText('wrong current password');
  for (const outcome of await page.locator('#audit tbody tr td:nth-child(4)').allTextContents()) {
    expect(outcome).toBe('failure');
  }
});
