import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import { createHmac } from 'node:crypto';
import { addTenantEmail, createTenant, directory, expect, hydrated, test, uniqueName } from './helpers';

interface Received { headers: http.IncomingHttpHeaders; body: string }

/** A webhook receiver on loopback: records every POST, answers 204. */
async function receiver(): Promise<{ url: string; got: Received[]; close: () => void }> {
  const got: Received[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      got.push({ headers: req.headers, body });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}/hook`, got, close: () => server.close() };
}

type Alert = { kind: string; condition: string; mailbox: string | null; title: string; fix: string; link: string };
const alertsIn = (r: Received): Alert[] => JSON.parse(r.body).alerts;

test('alerts: a signed webhook learns of an expiring secret, the banner shows it, the test button works', async ({ page, request, baseURL }) => {
  const hook = await receiver();
  try {
    // A mailbox whose client secret ends in five days.
    const d = await directory(request, baseURL!);
    const tenantName = uniqueName('Alerts');
    await createTenant(page, tenantName);
    await addTenantEmail(page, d, { secretExpiresInDays: 5 });
    await page.getByRole('button', { name: 'Save' }).click();
    await expect(page.locator('#authenticate')).toBeEnabled();

    await page.getByRole('link', { name: 'Alerts', exact: true }).click();
    await expect(page.getByRole('heading', { level: 1, name: 'Alerts' })).toBeVisible();
    await hydrated(page);

    // Checked in the browser first (WASM), field by field.
    await page.getByLabel('Kind').selectOption('webhook');
    await page.getByRole('button', { name: 'Add destination' }).click();
    await expect(page.locator('#destination-name-error')).toContainText('Enter a name');
    await expect(page.locator('#destination-url-error')).toContainText('Enter the URL');
    const name = uniqueName('Pager');
    await page.getByLabel('Name').fill(name);
    await page.getByLabel('URL').fill('ftp://example.com/hook');
    await page.getByRole('button', { name: 'Add destination' }).click();
    await expect(page.locator('#destination-url-error')).toContainText('https://');
    await page.getByLabel('URL').fill(hook.url);
    await page.getByRole('button', { name: 'Add destination' }).click();

    // The signing secret is shown once.
    const secret = (await page.locator('#new-webhook-secret-value').textContent())!.trim();
    expect(secret).toMatch(/^whsec_/);

    // The alert about this mailbox arrives, signed.
    let mine: Received | undefined;
    await expect
      .poll(() => {
        mine = hook.got.find((r) => alertsIn(r).some((a) => a.mailbox === d.mailbox && a.condition === 'secret'));
        return !!mine;
      }, { timeout: 20_000 })
      .toBeTruthy();
    const alert = alertsIn(mine!).find((a) => a.mailbox === d.mailbox)!;
    expect(alert.kind).toBe('raised');
    expect(alert.title).toBe(`${d.mailbox}: the client secret expires in 5 days (${new Date(Date.now() + 5 * 86_400_000).toISOString().slice(0, 10)})`);
    expect(alert.fix).toContain('Certificates & secrets');
    expect(alert.link).toMatch(new RegExp(`^${baseURL}/admin/tenants/[0-9a-f-]{36}/emails/[0-9a-f-]{36}$`));
    const [t, v1] = (mine!.headers['tenant-mail-signature'] as string).replace('t=', '').split(',v1=');
    expect(createHmac('sha256', secret).update(`${t}.${mine!.body}`).digest('hex')).toBe(v1);
    expect(JSON.parse(mine!.body).delivery_id).toBe(mine!.headers['tenant-mail-delivery']);

    // What needs attention, on the page and in the banner; the destination's last delivery.
    await page.reload();
    await hydrated(page);
    await expect(page.locator('#attention-list')).toContainText(alert.title);
    await expect(page.locator('#attention-banner')).toBeVisible();
    const row = page.locator(`#alert-destinations tr[data-destination="${name}"]`);
    await expect(row).toContainText('Delivered');
    await expect(row).toContainText(hook.url);

    // Send test alert: delivered within seconds.
    const before = hook.got.length;
    await row.getByRole('button', { name: 'Send test alert' }).click();
    await expect(page.locator('#test-queued')).toBeVisible();
    await expect
      .poll(() => hook.got.slice(before).some((r) => alertsIn(r).some((a) => a.kind === 'test')), { timeout: 20_000 })
      .toBeTruthy();

    // An email destination offers the sending mailboxes.
    await page.getByLabel('Kind').selectOption('email');
    await expect(page.locator('#destination-sender')).toContainText(d.mailbox);

    if (process.env.SCREENSHOTS) {
      await page.setViewportSize({ width: 1100, height: 820 });
      await page.screenshot({ path: 'screenshots/alerts.png', fullPage: true });
    }

    // Tenant Management names what needs attention first on the tenant's row.
    await page.goto('/admin/tenants');
    await expect(page.locator('tr', { hasText: tenantName }).locator('.tenant-attention')).toContainText(alert.title);

    // The banner is on every admin page and links to a mailbox.
    await page.goto('/admin/admins');
    await expect(page.locator('#attention-banner')).toBeVisible();
    await expect(page.locator('#attention-banner a').first()).toHaveAttribute('href', /^\/admin\/tenants\/[0-9a-f-]{36}\/emails\/[0-9a-f-]{36}$/);

    // Deleting the destination asks first.
    await page.goto('/admin/alerts');
    await hydrated(page);
    const again = page.locator(`#alert-destinations tr[data-destination="${name}"]`);
    await again.getByRole('button', { name: 'Delete' }).click();
    await again.getByRole('group', { name: 'Confirm delete' }).getByRole('button', { name: 'Delete' }).click();
    await expect(page.locator(`#alert-destinations tr[data-destination="${name}"]`)).toHaveCount(0);
  } finally {
    hook.close();
  }
});
