import { hydrated, expect, test } from './helpers';

// The real release build in Chromium: the bundle arrives brotli-compressed
// under content-hashed names, and a second visit takes it from the browser's
// cache without asking the server at all (immutable), while the page itself is
// fetched again every time (no-store).
test('assets arrive brotli-compressed, hashed, and cached across visits', async ({ page }) => {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  type Seen = { id: string; url: string; status: number; encoding: string; cache: string; diskCache: boolean };
  let seen = new Map<string, Seen>();
  cdp.on('Network.responseReceived', (e) => {
    const url: string = e.response.url;
    if (!url.includes('/pkg/') && e.type !== 'Document') return;
    const h = Object.fromEntries(Object.entries(e.response.headers).map(([k, v]) => [k.toLowerCase(), String(v)]));
    seen.set(url, {
      id: e.requestId,
      url,
      status: e.response.status,
      encoding: h['content-encoding'] ?? '',
      cache: h['cache-control'] ?? '',
      diskCache: Boolean(e.response.fromDiskCache),
    });
  });
  // Memory-cache hits are reported by request id, before their response.
  const servedFromCache = new Set<string>();
  cdp.on('Network.requestServedFromCache', (e) => servedFromCache.add(e.requestId));
  const fromCache = (s: Seen) => s.diskCache || servedFromCache.has(s.id);

  await page.goto('/admin/tenants');
  await hydrated(page);
  const first = [...seen.values()].filter((s) => s.url.includes('/pkg/'));
  const kinds = first.map((s) => s.url.split('.').pop()).sort();
  expect(kinds, 'the page loads its script, WASM and stylesheet').toEqual(['css', 'js', 'wasm']);
  for (const s of first) {
    expect(s.url, 'a content-hashed name').toMatch(/\/pkg\/tenant_mail\.[0-9a-f]{20}\.(js|wasm|css)$/);
    expect(s.status, s.url).toBe(200);
    expect(s.encoding, `${s.url} is sent compressed`).toBe('br');
    expect(s.cache, s.url).toBe('public, max-age=31536000, immutable');
  }
  const doc = [...seen.values()].find((s) => !s.url.includes('/pkg/'));
  expect(doc?.cache).toBe('no-store');

  // Second visit: a fresh document, but every asset from the cache.
  seen = new Map();
  await page.goto('/admin/tenants');
  await hydrated(page);
  const again = [...seen.values()].filter((s) => s.url.includes('/pkg/'));
  expect(again.map((s) => s.url.split('.').pop()).sort(), 'the second visit uses the same assets').toEqual(['css', 'js', 'wasm']);
  const hitServer = again.filter((s) => !fromCache(s));
  expect(hitServer.map((s) => `${s.url} ${s.status}`), 'assets fetched again from the server').toEqual([]);
  const page2 = [...seen.values()].find((s) => !s.url.includes('/pkg/'));
  expect(page2 && fromCache(page2), 'the page itself is never cached').toBe(false);
});
