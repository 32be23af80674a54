import { request as apiRequest } from '@playwright/test';
import { addTenantEmail, createTenant, directory, expect, hydrated, signInAs, STAND_IN, test, uniqueName } from './helpers';

test('receiving settings are checked field by field on the Receiving tab', async ({ page }) => {
  await createTenant(page, uniqueName('Receiving'));
  await page.getByRole('link', { name: 'Add' }).click();
  await hydrated(page);
  await page.getByRole('tab', { name: 'Receiving' }).click();
  await page.getByLabel('Check for new mail every (seconds)').fill('5');
  await page.getByLabel('Check for new mail every (seconds)').blur();
  await expect(page.locator('#poll_interval_seconds-error')).toContainText('between every 15 seconds');
  await page.getByLabel('After a message is received').selectOption('move');
  await page.getByLabel('Move to folder').fill('inbox');
  await page.getByLabel('Move to folder').blur();
  await expect(page.locator('#move_to_folder-error')).toContainText('choose another folder');
  // A send-only mailbox has nothing to receive: the tab says so instead.
  await page.getByRole('tab', { name: 'General' }).click();
  await page.getByLabel('Direction').selectOption('send');
  await page.getByRole('tab', { name: 'Receiving' }).click();
  await expect(page.locator('#receiving-off')).toBeVisible();
});

test('mail that arrives shows up in the Inbox after Sync now, and opens in the reader', async ({ page, request, baseURL }) => {
  const d = await directory(request, baseURL!);
  await createTenant(page, uniqueName('Inbox'));
  await addTenantEmail(page, d);
  await page.getByRole('tab', { name: 'Receiving' }).click();
  await page.getByLabel('After a message is received').selectOption('mark_read');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.locator('#authenticate')).toBeEnabled();
  await page.locator('#authenticate').click();
  await signInAs(page, d.mailbox);
  await page.waitForURL(/\?connected=1$/);
  await hydrated(page);

  await page.locator('#nav-inbox').click();
  await expect(page.getByRole('heading', { name: 'Inbox' })).toBeVisible();
  await hydrated(page);
  // The first check happens on its own shortly after connecting.
  await expect(page.locator('#inbox-status')).toContainText('Last checked', { timeout: 20_000 });
  await expect(page.locator('#inbox-empty')).toBeVisible();

  const pdf = Array.from({ length: 3000 }, (_, i) => i % 251);
  const delivered = await request.post(`${STAND_IN}/_stand-in/mail`, {
    data: {
      to_user: d.mailbox,
      from: { name: 'Fabrikam Support', address: 'support@fabrikam.example' },
      subject: 'Ticket 1042: printer on fire',
      body: '<p>The printer on floor 2 is <b>on fire</b>.</p><img src="https://tracker.example/p.gif"><script>alert(1)</script>',
      content_type: 'html',
      cc: [{ name: 'Facilities', address: 'facilities@fabrikam.example' }],
      attachments: [{ name: 'photo evidence.pdf', content_type: 'application/pdf', content: pdf }],
    },
  });
  expect(delivered.ok()).toBeTruthy();

  await page.locator('#sync-now').click();
  const row = page.locator('#inbox tbody tr').first();
  await expect(row).toContainText('Ticket 1042: printer on fire', { timeout: 20_000 });
  await expect(row).toContainText('Fabrikam Support <support@fabrikam.example>');
  await expect(row.locator('td.num')).toHaveText('1');

  await row.getByRole('link', { name: 'Ticket 1042: printer on fire' }).click();
  await expect(page).toHaveURL(/\/inbox\/[0-9a-f-]{36}$/);
  await expect(page.locator('#reader-subject')).toHaveText('Ticket 1042: printer on fire');
  await expect(page.locator('#reader')).toContainText('Facilities <facilities@fabrikam.example>');
  // The HTML is shown sanitised, in a sandboxed frame without scripts or remote images.
  const frame = page.locator('#reader-html');
  await expect(frame).toHaveAttribute('sandbox', 'allow-popups allow-popups-to-escape-sandbox');
  const srcdoc = await frame.getAttribute('srcdoc');
  expect(srcdoc).toContain('<b>on fire</b>');
  expect(srcdoc).not.toContain('script');
  expect(srcdoc).not.toContain('tracker.example');
  await expect(page.frameLocator('#reader-html').locator('b')).toHaveText('on fire');
  await expect(page.locator('#remote-blocked')).toContainText('1 remote image was not loaded');
  await page.locator('#show-text').click();
  await expect(page.locator('#reader-text')).toContainText('on fire');

  // The attachment downloads with its bytes, for the signed-in admin only.
  const link = page.locator('#reader-attachments a');
  await expect(link).toHaveText('photo evidence.pdf');
  const href = await link.getAttribute('href');
  const file = await page.request.get(href!);
  expect(file.status()).toBe(200);
  expect(file.headers()['content-disposition']).toContain('attachment');
  expect(Array.from(await file.body())).toEqual(pdf);
  const stranger = await apiRequest.newContext({ storageState: { cookies: [], origins: [] } });
  const anonymous = await stranger.get(`${baseURL}${href}`, { maxRedirects: 0 });
  expect(anonymous.status()).toBe(303);
  expect(anonymous.headers()['location']).toContain('/sign-in');
  await stranger.dispose();

  // A pasted screenshot (an inline part only: Graph says the message has no
  // attachments) shows in place inside the sandboxed frame.
  const png = Array.from(Buffer.from(
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64'));
  const pasted = await request.post(`${STAND_IN}/_stand-in/mail`, {
    data: {
      to_user: d.mailbox,
      from: { name: 'Fabrikam Support', address: 'support@fabrikam.example' },
      subject: 'Ticket 1043: see the screenshot',
      body: '<p>Here is the error:</p><img alt="screenshot" src="cid:image001.png@01DA5E2F.C0FFEE00">',
      content_type: 'html',
      attachments: [{ name: 'image001.png', content_type: 'image/png', content: png, is_inline: true,
        content_id: 'image001.png@01DA5E2F.C0FFEE00' }],
    },
  });
  expect(pasted.ok()).toBeTruthy();
  await page.goto(page.url().replace(/\/inbox\/[0-9a-f-]{36}$/, '/inbox'));
  await hydrated(page);
  await page.locator('#sync-now').click();
  const shotRow = page.locator('#inbox tbody tr', { hasText: 'Ticket 1043: see the screenshot' });
  await expect(shotRow).toBeVisible({ timeout: 20_000 });
  await shotRow.getByRole('link', { name: 'Ticket 1043: see the screenshot' }).click();
  await expect(page.locator('#reader-subject')).toHaveText('Ticket 1043: see the screenshot');
  const shot = page.frameLocator('#reader-html').locator('img[alt="screenshot"]');
  await expect(shot).toHaveAttribute('src', /^data:image\/png;base64,/);
  await expect.poll(() => shot.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(1);
  await expect(page.locator('#remote-blocked')).toHaveCount(0);

  // Marked read in the mailbox once stored (the after-processing action).
  await expect.poll(async () => {
    const inbox = await (await request.get(`${STAND_IN}/_stand-in/users/${d.mailbox}/folders/inbox/messages`)).json();
    return inbox.value.find((m: { subject: string }) => m.subject === 'Ticket 1042: printer on fire')?.isRead;
  }, { timeout: 20_000 }).toBe(true);

  // Reply from the reader: checked in the browser, then made by Graph in the
  // original's thread and followed until sent.
  await page.goto(page.url().replace(/\/inbox\/[0-9a-f-]{36}$/, '/inbox'));
  await hydrated(page);
  await page.locator('#inbox tbody tr', { hasText: 'Ticket 1042' }).getByRole('link').click();
  await expect(page.locator('#reader-subject')).toHaveText('Ticket 1042: printer on fire');
  const originalId = (await page.locator('#reader dt:text-is("Message-ID") + dd').textContent())!.trim();
  await page.locator('#reply-open').click();
  await expect(page.locator('#reply-to')).toContainText('support@fabrikam.example');
  await page.locator('#reply-send').click();
  await expect(page.locator('#reply-text-error')).toHaveText('Write the reply.');
  await page.locator('#reply-text').fill('The fire brigade is on its way.');
  await page.locator('#reply-all').check();
  await page.locator('#reply-send').click();
  await expect(page.locator('#reply-progress')).toHaveAttribute('data-state', 'sent', { timeout: 20_000 });
  const ledger = await (await request.get(`${STAND_IN}/_stand-in/ledger`)).json();
  const reply = ledger.sent.find((m: { subject: string }) => m.subject === 'RE: Ticket 1042: printer on fire');
  expect(reply.send_count).toBe(1);
  expect(reply.to).toEqual(['support@fabrikam.example']);
  expect(reply.cc).toEqual(['facilities@fabrikam.example']);
  expect(reply.headers).toContainEqual({ name: 'In-Reply-To', value: originalId });

  // Their answer comes back into the thread: the reader links it to the message it answers.
  const answer = await request.post(`${STAND_IN}/_stand-in/mail`, {
    data: {
      to_user: d.mailbox,
      from: { name: 'Fabrikam Support', address: 'support@fabrikam.example' },
      subject: 'RE: Ticket 1042: printer on fire',
      body: 'Thanks, it is out.',
      headers: [{ name: 'In-Reply-To', value: originalId }, { name: 'References', value: originalId }],
    },
  });
  expect(answer.ok()).toBeTruthy();
  await page.goto(page.url().replace(/\/inbox\/[0-9a-f-]{36}$/, '/inbox'));
  await hydrated(page);
  await page.locator('#sync-now').click();
  const answerRow = page.locator('#inbox tbody tr', { hasText: 'RE: Ticket 1042' });
  await expect(answerRow).toBeVisible({ timeout: 20_000 });
  await answerRow.getByRole('link').click();
  await expect(page.locator('#in-reply-to')).toHaveText('Ticket 1042: printer on fire');
  await page.locator('#in-reply-to').click();
  await expect(page.locator('#reader-subject')).toHaveText('Ticket 1042: printer on fire');
});

test('the Receiving tab picks folders by name from the mailbox and stores their ids', async ({ page, request, baseURL }) => {
  const d = await directory(request, baseURL!);
  await createTenant(page, uniqueName('Folders'));
  await addTenantEmail(page, d);
  await page.getByRole('tab', { name: 'Receiving' }).click();
  // Nothing to list before the mailbox is saved and connected.
  await expect(page.locator('#folders-later')).toBeVisible();
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.locator('#authenticate')).toBeEnabled();
  await page.locator('#authenticate').click();
  await signInAs(page, d.mailbox);
  await page.waitForURL(/\?connected=1$/);
  await hydrated(page);

  const name = uniqueName('Tickets');
  const made = await request.post(`${STAND_IN}/_stand-in/users/${d.mailbox}/folders`, {
    data: { display_name: name, parent: 'inbox' },
  });
  expect(made.ok()).toBeTruthy();
  const { id } = await made.json();
  const child = await request.post(`${STAND_IN}/_stand-in/users/${d.mailbox}/folders`, {
    data: { display_name: 'Escalated', parent: id },
  });
  expect(child.ok()).toBeTruthy();

  await page.getByRole('tab', { name: 'Receiving' }).click();
  await page.locator('#list-folders').click();
  const pick = page.locator('#receive_folder-pick');
  await expect(pick).toBeVisible();
  // Nested as in Outlook: the new folder under Inbox, its child under it.
  const labels = await pick.locator('option').allTextContents();
  const at = labels.findIndex((l) => l.trim() === name);
  expect(at).toBeGreaterThan(labels.findIndex((l) => l.trim() === 'Inbox'));
  expect(labels[at + 1].trim()).toBe('Escalated');
  await pick.selectOption(id);
  await expect(page.locator('#receive_folder')).toHaveValue(id);
  await expect(page.locator('#receive_folder-name')).toHaveText(`Folder: Inbox / ${name}`);
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByText('Saved.')).toBeVisible();

  // Opened again, the stored id is named without asking.
  await page.reload();
  await hydrated(page);
  await page.getByRole('tab', { name: 'Receiving' }).click();
  await expect(page.locator('#receive_folder')).toHaveValue(id);
  await expect(page.locator('#receive_folder-name')).toHaveText(`Folder: Inbox / ${name}`);
});

test('near-instant arrival: mail shows up without waiting for the next check', async ({ page, request, baseURL }) => {
  const d = await directory(request, baseURL!);
  await createTenant(page, uniqueName('Instant'));
  await addTenantEmail(page, d);
  await page.getByRole('tab', { name: 'Receiving' }).click();
  await page.getByLabel('How new mail is noticed').selectOption('notify');
  // An hour between checks: only Microsoft's notification can bring mail sooner.
  await page.getByLabel('Check for new mail every (seconds)').fill('3600');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.locator('#authenticate')).toBeEnabled();
  await page.locator('#authenticate').click();
  await signInAs(page, d.mailbox);
  await page.waitForURL(/\?connected=1$/);
  await hydrated(page);

  await page.locator('#nav-inbox').click();
  await hydrated(page);
  // The first check sets up the subscription (Microsoft checks the URL answers).
  await expect(page.locator('#instant-arrival')).toContainText('Near-instant arrival: on', { timeout: 30_000 });
  const subs = await (await request.get(`${STAND_IN}/_stand-in/subscriptions`)).json();
  expect(subs.some((s: { notification_url: string }) => s.notification_url === `${baseURL}/core/graph/notifications`)).toBeTruthy();

  const delivered = await request.post(`${STAND_IN}/_stand-in/mail`, {
    data: {
      to_user: d.mailbox,
      from: { name: 'Fabrikam Support', address: 'support@fabrikam.example' },
      subject: 'Ticket 2001: arrives at once',
      body: 'No need to wait an hour.',
    },
  });
  expect(delivered.ok()).toBeTruthy();
  const sent = Date.now();
  // No Sync now: the list refreshes itself every 3 s.
  await expect(page.locator('#inbox tbody tr', { hasText: 'Ticket 2001: arrives at once' })).toBeVisible({ timeout: 10_000 });
  expect(Date.now() - sent).toBeLessThan(10_000);
});
