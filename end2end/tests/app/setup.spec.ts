import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, hydrated, signIn, test } from './helpers';

// A second, empty installation: the first admin comes from the setup token
// that only the server log shows.
const port = Number(process.env.SETUP_APP_PORT ?? 3017);
const base = `http://127.0.0.1:${port}`;
test.use({ storageState: { cookies: [], origins: [] } });

let server: ChildProcess | undefined;
let dataDir = '';
let log = '';

test.beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'tenant-mail-setup-'));
  const root = path.resolve(__dirname, '../../..');
  server = spawn(path.join(root, process.env.APP_BIN ?? 'target/release/tenant-mail'), [], {
    cwd: root,
    env: {
      ...process.env,
      TENANT_MAIL_BIND: `127.0.0.1:${port}`,
      TENANT_MAIL_PUBLIC_URL: base,
      TENANT_MAIL_DATABASE_URL: `sqlite://${dataDir}/setup.db?mode=rwc`,
      TENANT_MAIL_KEY_FILE: `${dataDir}/secret.key`,
      LEPTOS_SITE_ROOT: 'target/site',
      LEPTOS_ENV: 'PROD',
    },
  });
  server.stdout?.on('data', (d) => (log += d));
  server.stderr?.on('data', (d) => (log += d));
  await expect.poll(() => /setup_token=([A-Za-z0-9_-]+)/.test(log), { timeout: 30_000 }).toBeTruthy();
});

test.afterAll(() => {
  server?.kill('SIGTERM');
  rmSync(dataDir, { recursive: true, force: true });
});

test('create the first admin with the setup token from the log, then sign in', async ({ page }) => {
  const token = log.match(/setup_token=([A-Za-z0-9_-]+)/)![1];
  await page.goto(`${base}/admin/tenants`);
  await expect(page).toHaveURL(/\/sign-in\?next=/);
  await expect(page.locator('#setup-needed')).toBeVisible();
  await page.getByRole('link', { name: 'Create the first admin' }).click();
  await hydrated(page);

  await page.getByLabel('Setup token').fill('not-the-token');
  await page.getByLabel('Username').fill('first-admin');
  await page.getByLabel('Password', { exact: true }).fill('setup passphrase for e2e');
  await page.getByLabel('Repeat the password').fill('setup passphrase for e2e');
  await page.getByRole('button', { name: 'Create admin' }).click();
  await expect(page.locator('#setup-token-error')).toContainText('not valid');

  await page.getByLabel('Setup token').fill(token);
  if (process.env.SCREENSHOTS) await page.screenshot({ path: 'screenshots/setup.png', fullPage: true });
  await page.getByRole('button', { name: 'Create admin' }).click();
  await expect(page.locator('#setup-done')).toBeVisible();
  await page.locator('#go-sign-in').click();
  await hydrated(page);
  await signIn(page, 'first-admin', 'setup passphrase for e2e');
  await expect(page).toHaveURL(`${base}/admin/tenants`);
  await expect(page.locator('#signed-in-as')).toHaveText('Signed in as first-admin');

  // The token is spent.
  await page.goto(`${base}/setup`);
  await expect(page.locator('#setup-complete')).toBeVisible();
});
