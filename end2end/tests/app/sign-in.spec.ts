import { ADMIN, createTenant, expect, hydrated, signIn, test, uniqueName } from './helpers';

// This file signs in and out itself.
test.use({ storageState: { cookies: [], origins: [] } });

test('sign in, reach Tenant Management, sign out, and the back button shows no admin data', async ({ page }) => {
  await page.goto('/admin/tenants');
  await expect(page).toHaveURL(/\/sign-in\?next=%2Fadmin%2Ftenants$/);
  await hydrated(page);
  await expect(page.locator('#signed-in-as')).toHaveCount(0);

  // An empty form is caught in the browser; a wrong password by the server, generically.
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.locator('#sign-in-error')).toHaveText('Enter your username and password.');
  await signIn(page, ADMIN, 'not the right password');
  await expect(page.locator('#sign-in-error')).toHaveText('The username or password is not right.');
  await expect(page.getByLabel('Username')).toHaveValue(ADMIN);
  await expect(page.getByLabel('Password')).toHaveValue('');

  await hydrated(page);
  await signIn(page);
  await expect(page).toHaveURL(/\/admin\/tenants$/);
  await expect(page.locator('#signed-in-as')).toHaveText(`Signed in as ${ADMIN}`);
  const tenant = uniqueName('Back button');
  await createTenant(page, tenant);
  const adminPage = await page.goto('/admin/tenants');
  await expect(page.getByText(tenant)).toBeVisible();
  // What keeps the page out of the back/forward and HTTP caches after sign-out.
  expect(adminPage?.headers()['cache-control']).toBe('no-store');

  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/sign-in\?signed_out=1$/);
  await expect(page.locator('#signed-out')).toBeVisible();

  await page.goBack();
  await expect(page).toHaveURL(/\/sign-in\?next=/);
  await expect(page.getByText(tenant)).toHaveCount(0);
  await expect(page.locator('#signed-in-as')).toHaveCount(0);
});

test('a deep link survives sign-in, and a hostile next is ignored', async ({ page }) => {
  await page.goto('/admin/audit');
  await expect(page).toHaveURL(/\/sign-in\?next=%2Fadmin%2Faudit$/);
  await hydrated(page);
  await signIn(page);
  await expect(page).toHaveURL(/\/admin\/audit$/);
  await expect(page.getByRole('heading', { name: 'Audit log' })).toBeVisible();
  await page.getByRole('button', { name: 'Sign out' }).click();

  await page.goto('/sign-in?next=//evil.example/');
  await hydrated(page);
  await signIn(page);
  await expect(page).toHaveURL(/127\.0\.0\.1:\d+\/admin\/tenants$/);
  await page.getByRole('button', { name: 'Sign out' }).click();

  // Dot segments that a server might collapse into //evil.example.
  await page.goto('/sign-in?next=' + encodeURIComponent('/%2e%2e//evil.example/'));
  await hydrated(page);
  await signIn(page);
  await expect(page).toHaveURL(/127\.0\.0\.1:\d+\/admin\/tenants$/);
});
