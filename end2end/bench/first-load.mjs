// Time to the first interaction that needs the WASM, from cold loads in
// headless Chromium on loopback (`make bench` runs it). Every load is a new
// browser context, so nothing is cached: what a first visit costs.
//
//   node bench/first-load.mjs <base-url> <session-cookie> <tenant-id> <email-id> [runs]
//
// Per page: median, min and max milliseconds from the start of navigation to
// the end of the interaction, and the bytes the browser received (encoded,
// headers included, from Chrome's own network accounting).
import { chromium } from '@playwright/test';

const [base, cookie, tenantId, emailId, runsArg] = process.argv.slice(2);
if (!base || !cookie || !tenantId || !emailId) {
  console.error('usage: node bench/first-load.mjs <base-url> <session-cookie> <tenant-id> <email-id> [runs]');
  process.exit(2);
}
const runs = Number(runsArg ?? 7);

const hydrated = (page) => page.locator('body[data-hydrated="true"]').waitFor();

// What each page's first real use is; each step needs the WASM to answer.
const pages = [
  {
    name: 'tenant email editor: a line break typed into Scopes shows its message',
    path: `/admin/tenants/${tenantId}/emails/${emailId}`,
    interact: async (page) => {
      await hydrated(page);
      await page.getByRole('tab', { name: 'OAuth2 Configuration' }).click();
      await page.getByLabel('Scopes').fill('openid\nprofile');
      await page.locator('#scopes-error').filter({ hasText: 'single line' }).waitFor();
    },
  },
  {
    name: 'Tenant Management: New tenant opens its form',
    path: '/admin/tenants',
    interact: async (page) => {
      await hydrated(page);
      await page.getByRole('button', { name: 'New tenant' }).click();
      await page.getByLabel('Tenant name').waitFor();
    },
  },
  {
    name: 'Inbox: Sync now is sent and answered',
    path: `/admin/tenants/${tenantId}/emails/${emailId}/inbox`,
    interact: async (page) => {
      await hydrated(page);
      const answered = page.waitForResponse((r) => r.url().includes('/api/') && r.request().method() === 'POST');
      await page.locator('#sync-now').click();
      await answered;
    },
  },
];

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-dev-shm-usage',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const url = new URL(base);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

console.log(`${'page'.padEnd(72)} ${'median'.padStart(8)} ${'min'.padStart(6)} ${'max'.padStart(6)} ${'bytes'.padStart(9)}`);
for (const p of pages) {
  const times = [];
  const bytes = [];
  for (let i = 0; i < runs; i++) {
    const context = await browser.newContext();
    await context.addCookies([{ name: 'tm_session', value: cookie, domain: url.hostname, path: '/' }]);
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    let received = 0;
    cdp.on('Network.loadingFinished', (e) => { received += e.encodedDataLength; });
    const t0 = performance.now();
    await page.goto(base + p.path);
    await p.interact(page);
    times.push(performance.now() - t0);
    bytes.push(received);
    await context.close();
  }
  console.log(`${p.name.padEnd(72)} ${median(times).toFixed(0).padStart(6)}ms ${Math.min(...times).toFixed(0).padStart(6)} ${Math.max(...times).toFixed(0).padStart(6)} ${String(median(bytes)).padStart(9)}`);
}
await browser.close();
