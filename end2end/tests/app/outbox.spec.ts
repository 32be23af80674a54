import { addTenantEmail, createTenant, directory, expect, hydrated, signInAs, STAND_IN, test, uniqueName } from './helpers';

test('send a test email from a connected mailbox, follow it to Sent, and find it in the Outbox', async ({ page, request, baseURL }) => {
  const d = await directory(request, baseURL!);
  await createTenant(page, uniqueName('Outbox'));
  await addTenantEmail(page, d);
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.locator('#authenticate')).toBeEnabled();
  // Not connected yet: no test sending offered.
  await expect(page.locator('#send-test')).toHaveCount(0);
  await page.locator('#authenticate').click();
  await signInAs(page, d.mailbox);
  await page.waitForURL(/\?connected=1$/);
  await hydrated(page);

  // The address is checked in the browser first.
  await expect(page.locator('#test-to')).toHaveValue(d.mailbox);
  await page.locator('#test-to').fill('not an address');
  await page.locator('#send-test').click();
  await expect(page.locator('#test-to-error')).not.toBeEmpty();

  await page.locator('#test-to').fill(d.other);
  await page.locator('#send-test').click();
  await expect(page.locator('#test-progress')).toHaveAttribute('data-state', 'sent', { timeout: 20_000 });
  await expect(page.locator('#test-progress')).toContainText(`Sent to ${d.other}`);

  // Microsoft (the stand-in) received it exactly once.
  const ledger = await (await request.get(`${STAND_IN}/_stand-in/ledger`)).json();
  const mine = ledger.sent.filter((s: { to: string[] }) => s.to.includes(d.other));
  expect(mine).toHaveLength(1);
  expect(mine[0].send_count).toBe(1);

  // The Connection panel says mail is moving: when it last went out, nothing waiting.
  const editor = page.url();
  await page.reload();
  await hydrated(page);
  await expect(page.locator('#last-sent')).not.toHaveText('never');
  await expect(page.locator('#outbox-counts')).toHaveText('0 queued · 0 held · 0 failed');
  await expect(page.locator('#scopes-required')).toContainText('Mail.Send');
  await expect(page.locator('#scopes-granted')).toContainText('Mail.Send');
  await expect(page.locator('#scopes-missing')).toHaveCount(0);
  expect(page.url()).toBe(editor);

  await page.locator('#open-outbox').click();
  await expect(page.getByRole('heading', { name: 'Outbox' })).toBeVisible();
  const row = page.locator('#outbox tbody tr').first();
  await expect(row).toHaveAttribute('data-state', 'sent');
  await expect(row).toContainText(d.other);
  await expect(row.getByRole('button')).toHaveCount(0);
});
