import { defineConfig } from '@playwright/test';

const port = Number(process.env.STAND_IN_PORT ?? 47990);

export default defineConfig({
  testDir: './tests',
  workers: 1,
  timeout: 30_000,
  reporter: 'list',
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    launchOptions: {
      executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
      args: [
        '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync',
      ],
    },
  },
  webServer: {
    command: `cargo run -q -p ms-stand-in -- --port ${port} --manual-clock`,
    url: `http://127.0.0.1:${port}/_stand-in/clock`,
    reuseExistingServer: !process.env.CI,
    timeout: 600_000,
  },
});
