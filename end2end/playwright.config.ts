import { defineConfig } from '@playwright/test';

// Both servers are built before Playwright runs (see .ci/test.sh); here they
// are only started. Everything listens on loopback.
const appPort = Number(process.env.APP_PORT ?? 3000);
const standInPort = Number(process.env.STAND_IN_PORT ?? 47990);
const dataDir = process.env.E2E_DATA_DIR ?? '/tmp/tenant-mail-e2e';
const appBin = process.env.APP_BIN ?? 'target/release/tenant-mail';
const standInBin = process.env.STAND_IN_BIN ?? 'target/debug/ms-stand-in';

const chromium = {
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--disable-dev-shm-usage',
  ],
};

export default defineConfig({
  workers: 1,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [['list']],
  forbidOnly: !!process.env.CI,
  projects: [
    {
      // Signs in once and saves the session for the app tests.
      name: 'sign-in',
      testDir: './tests/app',
      testMatch: /.*\.setup\.ts/,
      use: { baseURL: `http://127.0.0.1:${appPort}`, launchOptions: chromium },
    },
    {
      name: 'app',
      testDir: './tests/app',
      dependencies: ['sign-in'],
      use: { baseURL: `http://127.0.0.1:${appPort}`, launchOptions: chromium, storageState: '.auth/admin.json' },
    },
    {
      name: 'stand-in',
      testDir: './tests/stand-in',
      use: { baseURL: `http://127.0.0.1:${standInPort}`, launchOptions: chromium },
    },
  ],
  webServer: [
    {
      // The first admin comes from the CLI, as an operator would create it
      // (a no-op when it already exists in a reused data dir).
      command: `sh -c 'printf "%s\\n" "$E2E_ADMIN_PASSWORD" | ${appBin} admin create --username e2e-admin >/dev/null 2>&1; exec ${appBin}'`,
      cwd: '..',
      url: `http://127.0.0.1:${appPort}/readyz`,
      reuseExistingServer: false,
      timeout: 120_000,
      stdout: 'pipe',
      env: {
        TENANT_MAIL_BIND: `127.0.0.1:${appPort}`,
        TENANT_MAIL_PUBLIC_URL: `http://127.0.0.1:${appPort}`,
        TENANT_MAIL_DATABASE_URL: `sqlite://${dataDir}/e2e.db?mode=rwc`,
        TENANT_MAIL_KEY_FILE: `${dataDir}/secret.key`,
        TENANT_MAIL_EXTRA_AUTHORITY_HOST: `127.0.0.1:${standInPort}`,
        TENANT_MAIL_GRAPH_BASE_URL: `http://127.0.0.1:${standInPort}/v1.0`,
        TENANT_MAIL_LOG_LEVEL: 'info',
        LEPTOS_SITE_ROOT: 'target/site',
        LEPTOS_ENV: 'PROD',
        E2E_ADMIN_PASSWORD: 'e2e admin passphrase only for tests',
      },
    },
    {
      // System clock: the app checks token times against real time.
      command: `${standInBin} --port ${standInPort}`,
      cwd: '..',
      url: `http://127.0.0.1:${standInPort}/_stand-in/clock`,
      reuseExistingServer: false,
      timeout: 120_000,
    },
  ],
});
