import { expect, test } from '@playwright/test';
import { ADMIN, AUTH_FILE, hydrated, signIn } from './helpers';

test('sign in once for the app tests', async ({ page }) => {
  await page.goto('/admin/tenants');
  await expect(page).toHaveURL(/\/sign-in\?next=%2Fadmin%2Ftenants$/);
  await hydrated(page);
  await signIn(page);
  await expect(page).toHaveURL(/\/admin\/tenants$/);
  await expect(page.locator('#signed-in-as')).toHaveText(`Signed in as ${ADMIN}`);
  await page.context().storageState({ path: AUTH_FILE });
});
