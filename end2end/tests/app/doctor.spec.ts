import { addTenantEmail, createTenant, directory, expect, hydrated, signInAs, test, uniqueName } from './helpers';

const line = (page: import('@playwright/test').Page, name: string) => page.locator(`#doctor-report li[data-check="${name}"]`);

test('Check configuration: a line per check before and after connecting, a wrong secret named with its fix', async ({ page, request, baseURL }) => {
  const d = await directory(request, baseURL!);
  await createTenant(page, uniqueName('Doctor'));
  await addTenantEmail(page, d);
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.locator('#authenticate')).toBeEnabled();
  await hydrated(page);

  // Not connected yet: the app's credentials and the redirect URI are proved anyway.
  await page.getByRole('button', { name: 'Check configuration' }).click();
  await expect(page.locator('#doctor-summary')).toContainText('Some checks failed');
  await expect(line(page, 'Authority discovery')).toHaveAttribute('data-outcome', 'pass');
  await expect(line(page, 'Redirect URI')).toHaveAttribute('data-outcome', 'pass');
  await expect(line(page, 'Redirect URI')).toContainText(`${baseURL}/core/oauth2/validated`);
  await expect(line(page, 'Application ID and secret')).toHaveAttribute('data-outcome', 'pass');
  await expect(line(page, 'Clock')).toHaveAttribute('data-outcome', 'pass');
  await expect(line(page, 'Token')).toHaveAttribute('data-outcome', 'fail');
  await expect(line(page, 'Token')).toContainText('Fix: Click to Authenticate');

  // Connected: every line is green.
  await page.locator('#authenticate').click();
  await signInAs(page, d.mailbox);
  await page.waitForURL(/\?connected=1$/);
  await hydrated(page);
  await page.getByRole('button', { name: 'Check configuration' }).click();
  await expect(page.locator('#doctor-summary')).toContainText('Every check passed');
  await expect(page.locator('#doctor-report li[data-outcome="fail"]')).toHaveCount(0);
  await expect(line(page, 'Mailbox answers')).toContainText(d.mailbox);
  await expect(line(page, 'Scopes')).toContainText('Granted at the last sign-in');

  // Send a message to itself: out through Graph and back in through the inbox sync.
  await page.getByRole('button', { name: 'Send a message to itself' }).click();
  const trip = page.locator('#round-trip-report li');
  await expect(trip).toHaveAttribute('data-outcome', 'pass', { timeout: 40_000 });
  await expect(trip).toContainText('received back');
  if (process.env.SCREENSHOTS) {
    await page.setViewportSize({ width: 1100, height: 820 });
    await page.locator('#doctor-report').scrollIntoViewIfNeeded();
    await page.screenshot({ path: 'screenshots/doctor.png', fullPage: true });
  }

  // A wrong secret: the credentials line says what Microsoft said and what to do.
  await page.getByRole('tab', { name: 'OAuth2 Configuration' }).click();
  await page.getByRole('button', { name: 'Replace' }).click();
  await page.getByLabel('Secret key').fill('not-the-secret-value');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByText('Saved.')).toBeVisible();
  await page.getByRole('button', { name: 'Check configuration' }).click();
  await expect(line(page, 'Application ID and secret')).toHaveAttribute('data-outcome', 'fail');
  await expect(line(page, 'Application ID and secret')).toContainText('AADSTS7000215');
  await expect(line(page, 'Application ID and secret')).toContainText('Certificates & secrets');
});
