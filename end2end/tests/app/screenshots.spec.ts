import { addTenantEmail, APP_ID, createTenant, directory, hydrated, signInAs, STAND_IN, expect, test } from './helpers';

// Not a test of behaviour: regenerates the README's pictures (`make screenshots`).
test.skip(!process.env.SCREENSHOTS, 'set SCREENSHOTS=1 to regenerate README screenshots');

test('README screenshots', async ({ page, baseURL }) => {
  await page.setViewportSize({ width: 1100, height: 820 });
  await createTenant(page, 'Contoso Ltd');
  await page.getByRole('link', { name: 'Add' }).click();
  await hydrated(page);
  await page.getByLabel('Email address').fill('helpdesk@contoso.com');
  await page.getByRole('tab', { name: 'OAuth2 Configuration' }).click();
  await page.getByLabel('Application ID').fill(APP_ID);
  await page.getByLabel('Secret key').fill('Xy7~Q8abcDEFghiJKLmnoPQRstuVWX0123456789');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page).toHaveURL(/\/emails\/[0-9a-f-]{36}$/);
  await page.reload();
  await hydrated(page);
  await page.getByRole('tab', { name: 'OAuth2 Configuration' }).click();
  await page.getByLabel('Scopes').fill('openid profile offline_access\nuser.read mail.read mail.send mail.readwrite');
  await expect(page.locator('#scopes-error')).toContainText('single line');
  await page.screenshot({ path: 'screenshots/oauth2-configuration.png', fullPage: true });
  await page.getByRole('button', { name: 'Fix scopes' }).click();
  // A national cloud: the authority of another cloud is refused as typed.
  await page.getByLabel('Cloud').selectOption('us_gov');
  await expect(page.locator('#authority-fixed')).toBeVisible();
  await page.screenshot({ path: 'screenshots/cloud.png', clip: { x: 0, y: 280, width: 1100, height: 1000 }, fullPage: true });
  await page.getByLabel('Cloud').selectOption('global');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByText('Saved.')).toBeVisible();
  await page.locator('#back-to-tenant').click();
  await expect(page.locator('#emails-table')).toBeVisible();
  await page.screenshot({ path: 'screenshots/tenant-emails.png', fullPage: true });
  await createTenant(page, 'Fabrikam');
  await page.goto('/admin/tenants');
  await hydrated(page);
  await page.screenshot({ path: 'screenshots/tenants.png', fullPage: true });

  // A connected mailbox, through the stand-in.
  const d = await directory(page.request, baseURL!);
  await createTenant(page, 'Northwind');
  await addTenantEmail(page, d, { secretExpiresInDays: 20 });
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.locator('#authenticate')).toBeEnabled();
  await page.locator('#authenticate').click();
  await signInAs(page, d.mailbox);
  await page.waitForURL(/\?connected=1$/);
  await expect(page.locator('#connect-success')).toBeVisible();
  await page.locator('#connect-success').scrollIntoViewIfNeeded();
  await page.screenshot({ path: 'screenshots/connected.png', fullPage: true });

  // Send test email: followed live until Microsoft (the stand-in) accepted it; then the Outbox.
  await hydrated(page);
  await page.locator('#test-to').fill(d.other);
  await page.locator('#send-test').click();
  await expect(page.locator('#test-progress')).toHaveAttribute('data-state', 'sent', { timeout: 20_000 });
  await page.locator('#test-progress').scrollIntoViewIfNeeded();
  await page.screenshot({ path: 'screenshots/send-test.png' });
  const emailPage = page.url();
  await page.locator('#open-outbox').click();
  await expect(page.locator('#outbox tbody tr').first()).toHaveAttribute('data-state', 'sent');
  await page.screenshot({ path: 'screenshots/outbox.png', fullPage: true });

  // The Receiving tab, then the Inbox with a message open in the reader.
  await page.goto(emailPage);
  await hydrated(page);
  await page.getByRole('tab', { name: 'Receiving' }).click();
  await page.getByLabel('After a message is received').selectOption('move');
  await page.getByLabel('How new mail is noticed').selectOption('notify');
  // The folder to move to, picked by name from the mailbox's own folders.
  const handled = await (await page.request.post(`${STAND_IN}/_stand-in/users/${d.mailbox}/folders`, {
    data: { display_name: 'Handled', parent: 'inbox' },
  })).json();
  await page.locator('#list-folders').click();
  await page.locator('#move_to_folder-pick').selectOption(handled.id);
  await expect(page.locator('#move_to_folder-name')).toHaveText('Folder: Inbox / Handled');
  await page.screenshot({ path: 'screenshots/receiving.png', fullPage: true });
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByText('Saved.')).toBeVisible();
  for (const [name, address, subject, body] of [
    ['Fabrikam Support', 'support@fabrikam.example', 'Ticket 1042: printer on fire', '<p>Hello,</p><p>The printer on floor 2 is <b>on fire</b> again. Photo attached.</p><p>Regards,<br>Megan</p>'],
    ['Adele Vance', 'adele@fabrikam.example', 'Re: Invoice 2026-118', '<p>Paid today, thank you.</p>'],
    ['Northwind Orders', 'orders@northwind.example', 'Order 5531 shipped', '<p>Your order is on its way.</p>'],
  ]) {
    await page.request.post(`${STAND_IN}/_stand-in/mail`, {
      data: {
        to_user: d.mailbox, from: { name, address }, subject, body, content_type: 'html',
        attachments: subject.startsWith('Ticket') ? [{ name: 'printer.jpg', content_type: 'image/jpeg', content: Array.from({ length: 48_000 }, (_, i) => i % 256) }] : [],
      },
    });
  }
  await page.locator('#nav-inbox').click();
  await hydrated(page);
  await page.locator('#sync-now').click();
  await expect(page.locator('#inbox tbody tr')).toHaveCount(3, { timeout: 20_000 });
  await expect(page.locator('#instant-arrival')).toContainText('Near-instant arrival: on', { timeout: 20_000 });
  await page.locator('#inbox tbody tr').last().getByRole('link').click();
  await expect(page.locator('#reader-subject')).toBeVisible();
  await expect(page.frameLocator('#reader-html').locator('b')).toBeVisible();
  await page.screenshot({ path: 'screenshots/inbox.png', fullPage: true });
  await hydrated(page);
  await page.locator('#reply-open').click();
  await page.locator('#reply-text').fill('Hello Megan,\n\nFacilities are on their way. Please keep clear of floor 2.\n\nHelpdesk');
  await page.locator('#reply-text').scrollIntoViewIfNeeded();
  await page.screenshot({ path: 'screenshots/inbox-reply.png', fullPage: true });
  await page.goto(emailPage);
  await signInAsPicker(page, d);

  // API tokens of a tenant, right after creating one (shown once).
  await createTenant(page, 'Litware');
  await hydrated(page);
  await page.getByRole('tab', { name: 'API tokens' }).click();
  await page.getByLabel('New token name').fill('Helpdesk app');
  await page.getByRole('button', { name: 'New token' }).click();
  await expect(page.locator('#new-token-value')).toBeVisible();
  await page.screenshot({ path: 'screenshots/api-tokens.png', fullPage: true });

  // Admins and the audit log.
  await page.goto('/admin/admins');
  await hydrated(page);
  await page.screenshot({ path: 'screenshots/admins.png', fullPage: true });
  await page.goto('/admin/audit');
  await hydrated(page);
  await expect(page.locator('#audit tbody tr').first()).toBeVisible();
  await page.screenshot({ path: 'screenshots/audit-log.png', fullPage: true });
});

test('README screenshot: sign-in', async ({ browser }) => {
  const context = await browser.newContext({ storageState: { cookies: [], origins: [] }, viewport: { width: 1100, height: 620 } });
  const page = await context.newPage();
  await page.goto('/admin/tenants');
  await hydrated(page);
  await page.getByLabel('Username').fill('e2e-admin');
  await page.screenshot({ path: 'screenshots/sign-in.png' });
  await context.close();
});

// The account picker the admin sees at "Microsoft" (the stand-in), with the trap account listed first.
async function signInAsPicker(page, d) {
  await hydrated(page);
  await page.locator('#authenticate').click();
  await expect(page.getByRole('heading', { name: 'Pick an account' })).toBeVisible();
  await page.screenshot({ path: 'screenshots/account-picker.png' });
}
