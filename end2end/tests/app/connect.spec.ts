import { addTenantEmail, createTenant, directory, hydrated, signInAs, STAND_IN, uniqueName, expect, test } from './helpers';

test('connect: Click to Authenticate → Microsoft → validated → Click to RE Authenticate; wrong account refused', async ({ page, request, baseURL }) => {
  const d = await directory(request, baseURL!);
  await createTenant(page, uniqueName('Connect'));
  await addTenantEmail(page, d, { secretExpiresInDays: 10 });
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
  // Which organisation the mailbox belongs to, by name and id.
  await expect(page.locator('#connected-tenant')).toHaveText(`${d.tenantName} (${d.tenantId})`);
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
