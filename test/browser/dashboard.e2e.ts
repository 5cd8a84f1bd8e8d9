/**
 * The billing dashboard page (/dashboard) in a real headless Chromium (Debian's `chromium`, or the one inside the
 * `@sparticuz/chromium` devDependency where Debian's is absent; driven by playwright-core):
 * Tollgate on a fresh data dir with a loopback fake OpenAI upstream, calls sent through the gateway, the page's figures
 * checked against the API's, live updates without a reload, an alert crossing 80 percent, mark-read, the tenant's
 * user picker, and a second user's data never on the first user's page. Screenshots go to test-output/browser/.
 */
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import { AddressInfo } from 'net';
import { chromium, BrowserContext, Page } from 'playwright-core';
import { findChromium } from '../support/chromium';
import { startTestApp, TestApp, TEST_ADMIN_KEY } from '../support/test-app';

const OUT = path.join(process.cwd(), 'test-output', 'browser');
const PROVIDER_KEY = 'sk-fake-provider-key-for-acme-0001';
const LIVE_UPDATE_MS = 8000;

jest.setTimeout(180_000);

/** A loopback fake of OpenAI's chat completions: counts tokens from the request and answers in OpenAI's shape. */
interface FakeOpenAI {
  url: string;
  requests: Array<{ authorization?: string; model: string }>;
  close(): Promise<void>;
}

async function startFakeOpenAI(): Promise<FakeOpenAI> {
  const requests: FakeOpenAI['requests'] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      let body: any = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
      } catch {
        body = {};
      }
      requests.push({ authorization: req.headers.authorization, model: body.model });
      if (req.headers.authorization !== `Bearer ${PROVIDER_KEY}`) {
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: 'Incorrect API key provided', type: 'invalid_request_error', code: 'invalid_api_key' } }));
        return;
      }
      const prompt = JSON.stringify(body.messages ?? []);
      const promptTokens = 20 + Math.ceil(prompt.length / 4);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          id: `chatcmpl-${requests.length}`,
          object: 'chat.completion',
          created: 1741608000,
          model: body.model,
          choices: [{ index: 0, message: { role: 'assistant', content: 'Hello from the fake.' }, finish_reason: 'stop' }],
          usage: { prompt_tokens: promptTokens, completion_tokens: 7, total_tokens: promptTokens + 7 },
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, requests, close: () => new Promise((r) => server.close(() => r())) };
}

/** Chromium's flags; the fresh profile dir is given to launchPersistentContext (playwright's form of --user-data-dir). */
const LAUNCH_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

describe('the billing dashboard page in headless Chromium', () => {
  let t: TestApp;
  let fake: FakeOpenAI;
  let context: BrowserContext;
  let page: Page;
  let userDataDir: string;
  let tenantKey: string;
  let aliceKey: string;
  let bobKey: string;
  const pageErrors: string[] = [];

  /** Checks a call/response of the management API; fails with the body on an unexpected status. */
  async function api(method: string, p: string, key: string, body?: unknown, expected: number[] = [200, 201]): Promise<any> {
    const r = await t.request(method, p, { key, body });
    if (!expected.includes(r.status)) throw new Error(`${method} ${p} answered ${r.status}: ${r.text}`);
    return r.body;
  }

  /** One chat completion through the gateway, as the OpenAI SDK would send it with a Tollgate user key. */
  async function chat(key: string, model: string, text: string): Promise<void> {
    const res = await fetch(`${t.url}/proxy/openai/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: text }] }),
    });
    const body = await res.text();
    if (res.status !== 200) throw new Error(`gateway call answered ${res.status}: ${body}`);
  }

  beforeAll(async () => {
    const browser = await findChromium();
    fs.mkdirSync(OUT, { recursive: true });
    fake = await startFakeOpenAI();
    t = await startTestApp({ env: { TOLLGATE_UPSTREAM_OPENAI: fake.url }, now: '2025-03-10T12:00:00.000Z' });

    // The operator: a tenant, its key, and a small plan so a few calls cross the thresholds.
    await api('POST', '/api/admin/tenants', TEST_ADMIN_KEY, { tenant_id: 'acme', name: 'Acme Writing' });
    tenantKey = (await api('POST', '/api/admin/tenants/acme/keys', TEST_ADMIN_KEY, { role: 'tenant' })).key;
    await api('PUT', '/api/admin/plans/starter5', TEST_ADMIN_KEY, {
      name: 'Starter 5',
      monthly_price: 5,
      yearly_price: 50,
      limits: { openai_calls: 5, total_calls: 50, monthly_cost: 2 },
      alert_thresholds: [80, 90, 100],
    });
    // The tenant: its OpenAI key, two users with keys, both subscribed.
    await api('PUT', '/api/tenant/provider-keys/openai', tenantKey, { api_key: PROVIDER_KEY });
    aliceKey = (await api('POST', '/api/tenant/keys', tenantKey, { user_id: 'alice' })).key;
    bobKey = (await api('POST', '/api/tenant/keys', tenantKey, { user_id: 'bob' })).key;
    await api('POST', '/api/subscription/subscribe', tenantKey, { user_id: 'alice', plan_id: 'starter5', billing_cycle: 'monthly' });
    await api('POST', '/api/subscription/subscribe', tenantKey, { user_id: 'bob', plan_id: 'pro', billing_cycle: 'monthly' });

    // Usage: alice 3 calls (60 percent of openai_calls), bob 2 calls with a model alice never uses.
    for (let i = 0; i < 3; i++) await chat(aliceKey, 'gpt-4o-mini', `alice question ${i}`);
    for (let i = 0; i < 2; i++) await chat(bobKey, 'gpt-3.5-turbo', `bob question ${i}`);
    // Alice's earlier months, reported by the tenant's backend (calls it made itself), so the trend spans months.
    const history = ['2025-01-06', '2025-01-14', '2025-01-20', '2025-01-29', '2025-02-03', '2025-02-12', '2025-02-24'].map((day, i) => ({
      id: `alice-history-${i}`,
      user_id: 'alice',
      provider: 'gemini',
      model: 'gemini-2.5-flash',
      input_tokens: 1200 + 100 * i,
      output_tokens: 300,
      cache_read_tokens: 0,
      cache_write_tokens: 0,
      reasoning_tokens: 0,
      units: 0,
      occurred_at: `${day}T10:00:00.000Z`,
    }));
    const reported = await api('POST', '/api/usage/events', tenantKey, { events: history });
    expect(reported.results.map((r: any) => r.status)).toEqual(history.map(() => 'accepted'));
    await t.settle();

    userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, { executablePath: browser.executablePath, args: [...new Set([...browser.args, ...LAUNCH_ARGS])], headless: true, viewport: { width: 1280, height: 900 } });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      // 401/404 answers and the refused connections of the unreachable-server case are expected.
      if (m.type() === 'error' && !/status of 40[14]|ERR_CONNECTION_REFUSED/.test(m.text())) pageErrors.push(m.text());
    });
  });

  afterAll(async () => {
    await context?.close().catch(() => undefined);
    await t?.close().catch(() => undefined);
    await fake?.close().catch(() => undefined);
    if (userDataDir) fs.rmSync(userDataDir, { recursive: true, force: true });
  });

  async function signIn(key: string): Promise<void> {
    await page.fill('#key-input', key);
    await page.click('#signin-button');
  }

  async function attr(selector: string, name: string): Promise<string | null> {
    return page.locator(selector).getAttribute(name);
  }

  test('serves the page, its assets and Chart.js itself, without a key and without a CDN', async () => {
    const html = await t.request('GET', '/dashboard');
    expect(html.status).toBe(200);
    expect(html.headers.get('content-type')).toContain('text/html');
    expect(html.text).toContain('/dashboard/vendor/chart.js');
    expect(html.text).not.toMatch(/https?:\/\//);
    const chart = await t.request('GET', '/dashboard/vendor/chart.js');
    expect(chart.status).toBe(200);
    expect(chart.text).toContain('Chart');
    expect((await t.request('GET', '/dashboard/assets/app.js')).status).toBe(200);
    expect((await t.request('GET', '/dashboard/assets/nothing-here.js')).status).toBe(404);
    expect((await t.request('GET', '/dashboard/details')).status).toBe(200);
  });

  test('a wrong key gets a clear 401 message and nothing is stored', async () => {
    const requests: string[] = [];
    const onRequest = (r: { url(): string }) => requests.push(r.url());
    page.on('request', onRequest);
    await page.goto(`${t.url}/dashboard`);
    await signIn('tg_this_key_does_not_exist_000000000');
    await page.waitForFunction(() => /401/.test(document.getElementById('signin-error')?.textContent ?? ''));
    expect(await page.textContent('#signin-error')).toContain('did not accept this key');
    expect(await page.evaluate(() => Object.keys(sessionStorage).length)).toBe(0);
    await page.screenshot({ path: path.join(OUT, 'signin-wrong-key.png'), fullPage: true });
    expect(requests.some((u) => u.includes('tg_'))).toBe(false);
    page.off('request', onRequest);
  });

  test('the overview shows the user\u2019s figures, equal to the API\u2019s, and the key only in sessionStorage', async () => {
    const apiRequests: Array<{ url: string; auth?: string }> = [];
    const onRequest = (r: { url(): string; headers(): Record<string, string> }) => {
      if (r.url().includes('/api/')) apiRequests.push({ url: r.url(), auth: r.headers().authorization });
    };
    page.on('request', onRequest);
    await signIn(aliceKey);
    await page.waitForSelector('#limits li[data-limit="openai_calls"]');
    await page.waitForFunction(() => document.getElementById('total-calls')?.dataset.value === '3');

    const dash = await api('GET', '/api/subscription/dashboard/alice', aliceKey);
    expect(dash.current_usage.total_calls).toBe(3);
    expect(Number(await attr('#total-calls', 'data-value'))).toBe(dash.current_usage.total_calls);
    expect(Number(await attr('#total-cost', 'data-value'))).toBe(dash.current_usage.total_cost);
    expect(await page.textContent('#plan-name')).toBe(dash.limits.plan_name);
    expect(await attr('#usage-status', 'data-status')).toBe(dash.current_usage.usage_status);
    expect(dash.projections.projected_monthly_cost).toEqual(expect.any(Number));
    expect(Number(await attr('#projected-cost', 'data-value'))).toBe(dash.projections.projected_monthly_cost);

    // One bar per limit, each with the API's used value, limit and percentage, and the figure in words.
    for (const [limitKey, limitValue] of Object.entries<number>(dash.limits.limits)) {
      const row = page.locator(`#limits li[data-limit="${limitKey}"]`);
      expect(Number(await row.getAttribute('data-max'))).toBe(limitValue);
      const apiPercent = dash.usage_percentages[limitKey] ?? (limitKey === 'monthly_cost' ? dash.usage_percentages.cost : undefined);
      expect(apiPercent).toEqual(expect.any(Number));
      expect(Number(await row.getAttribute('data-percent'))).toBeCloseTo(apiPercent, 6);
      expect(await row.locator('.mark').count()).toBe(3);
    }
    expect(await page.textContent('#limits li[data-limit="openai_calls"]')).toContain('3 of 5 OpenAI calls');
    expect(Number(await attr('#limits li[data-limit="openai_calls"]', 'data-used'))).toBe(dash.current_usage.provider_breakdown.openai.calls);

    // Days left: from the status endpoint, against the fake clock (2025-03-10, period to 2025-04-10).
    const status = await api('GET', '/api/subscription/status/alice', aliceKey);
    expect(status.days_remaining_in_period).toEqual(expect.any(Number));
    expect(Number(await attr('#days-left', 'data-value'))).toBe(status.days_remaining_in_period);
    expect(await page.getAttribute('#health', 'data-state')).toBe('ready');

    // The key: in sessionStorage, in the Authorization header of every API call, never in a URL.
    expect(await page.evaluate(() => Object.values(sessionStorage))).toContain(aliceKey);
    expect(await page.evaluate(() => Object.values(localStorage).length)).toBe(0);
    expect(apiRequests.length).toBeGreaterThan(0);
    for (const r of apiRequests.filter((x) => !x.url.endsWith('/api/subscription/plans'))) expect(r.auth).toBe(`Bearer ${aliceKey}`);
    expect(apiRequests.some((r) => r.url.includes(aliceKey))).toBe(false);
    expect(page.url()).not.toContain(aliceKey);
    page.off('request', onRequest);

    // Bob's usage is not alice's.
    expect(await page.textContent('body')).not.toContain('bob');
    await page.screenshot({ path: path.join(OUT, 'overview.png'), fullPage: true });
  });

  test('a call through the gateway shows without a reload; crossing 80 percent raises an alert that can be marked read', async () => {
    const navigations: string[] = [];
    const onNavigated = (f: { url(): string }) => navigations.push(f.url());
    page.on('framenavigated', onNavigated);
    await chat(aliceKey, 'gpt-4o-mini', 'alice question 3, the fourth call');
    const t0 = Date.now();
    await page.waitForFunction(() => document.getElementById('total-calls')?.dataset.value === '4', undefined, { timeout: LIVE_UPDATE_MS });
    const seenAfter = Date.now() - t0;
    expect(seenAfter).toBeLessThan(LIVE_UPDATE_MS);
    expect(navigations).toEqual([]);
    page.off('framenavigated', onNavigated);
    expect(await page.textContent('#limits li[data-limit="openai_calls"]')).toContain('4 of 5 OpenAI calls');
    expect(await attr('#limits li[data-limit="openai_calls"] .bar', 'data-band')).toBe('notice');

    // The details view: the alert for 80 percent of openai_calls.
    await page.click('#tab-detailed');
    const alert = page.locator('#alerts li[data-limit="openai_calls"][data-threshold="80"]');
    await alert.waitFor({ timeout: LIVE_UPDATE_MS });
    const alerts = (await api('GET', '/api/subscription/alerts/alice', aliceKey)).alerts;
    const a80 = alerts.find((a: any) => a.limit === 'openai_calls' && a.threshold === 80);
    expect(a80).toBeDefined();
    expect(await alert.getAttribute('data-alert-id')).toBe(a80.alert_id);
    expect(await alert.getAttribute('data-read')).toBe('false');
    expect(await alert.textContent()).toContain(a80.title);
    expect(await alert.textContent()).toContain(a80.message);

    // Provider breakdown and usage log equal the API's.
    const dash = await api('GET', '/api/subscription/dashboard/alice', aliceKey);
    const openaiRow = page.locator('#providers-table tr[data-provider="openai"]');
    await page.waitForFunction(() => document.querySelector('#providers-table tr[data-provider="openai"] td[data-field="calls"]')?.getAttribute('data-value') === '4');
    expect(Number(await openaiRow.locator('td[data-field="tokens"]').getAttribute('data-value'))).toBe(dash.current_usage.provider_breakdown.openai.tokens);
    expect(Number(await openaiRow.locator('td[data-field="cost"]').getAttribute('data-value'))).toBe(dash.current_usage.provider_breakdown.openai.cost);
    expect(await page.locator('#providers-table tbody tr').count()).toBe(Object.keys(dash.current_usage.provider_breakdown).length);

    const logs = await api('GET', '/api/subscription/usage/alice/logs', aliceKey);
    await page.waitForFunction((n) => document.querySelectorAll('#log-table tbody tr[data-id]').length === n, logs.items.length);
    const ids = await page.locator('#log-table tbody tr[data-id]').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.id));
    expect(ids).toEqual(logs.items.map((i: any) => i.id));
    expect(logs.items.filter((i: any) => i.provider === 'openai')).toHaveLength(4);
    expect(logs.items.filter((i: any) => i.provider === 'gemini')).toHaveLength(7);

    // Charts drawn by Chart.js (canvases with a size).
    const canvasSizes = await page.evaluate(() => ['chart-providers', 'chart-trends'].map((id) => (document.getElementById(id) as HTMLCanvasElement).width));
    for (const w of canvasSizes) expect(w).toBeGreaterThan(0);
    const daily = await api('GET', '/api/subscription/usage/alice/trends?granularity=day&months=6', aliceKey);
    await page.waitForFunction((n) => (document.getElementById('trend-meta')?.textContent ?? '').includes(`total ${n} calls`), daily.totals.calls);
    expect(await page.textContent('#trend-meta')).toContain(`${daily.series.length} days`);
    await page.screenshot({ path: path.join(OUT, 'details-alert-unread.png'), fullPage: true });

    // Mark it read, by keyboard: focus the button and press Enter.
    await alert.locator('button.mark-read').focus();
    await page.keyboard.press('Enter');
    await page.waitForFunction((id) => document.querySelector(`#alerts li[data-alert-id="${id}"]`)?.getAttribute('data-read') === 'true', a80.alert_id);
    const after = (await api('GET', '/api/subscription/alerts/alice', aliceKey)).alerts.find((a: any) => a.alert_id === a80.alert_id);
    expect(after.is_read).toBe(true);
    // The monthly trend: one bucket per month, the same total as the API's.
    const monthly = await api('GET', '/api/subscription/usage/alice/trends?granularity=month&months=6', aliceKey);
    await page.check('#gran-month');
    await page.waitForFunction((m) => (document.getElementById('trend-meta')?.textContent ?? '').startsWith(`${m} months`), monthly.series.length);
    expect(await page.textContent('#trend-meta')).toContain(`total ${monthly.totals.calls} calls`);
    expect(monthly.totals.calls).toBe(11);
    await page.screenshot({ path: path.join(OUT, 'details.png'), fullPage: true });

    // Bob's calls (gpt-3.5-turbo) never appear on alice's page.
    const body = await page.textContent('body');
    expect(body).not.toContain('gpt-3.5-turbo');
    expect(body).not.toContain('bob');
  });

  test('the views switch by keyboard (arrow keys on the tabs) and each figure has a tooltip', async () => {
    await page.focus('#tab-detailed');
    await page.keyboard.press('ArrowLeft');
    expect(await page.isVisible('#view-compact')).toBe(true);
    expect(await page.isVisible('#view-detailed')).toBe(false);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('tab-compact');
    await page.keyboard.press('ArrowRight');
    expect(await page.isVisible('#view-detailed')).toBe(true);
    await page.keyboard.press('ArrowLeft');
    // Every "?" names a tooltip that exists; focusing one shows it, Escape hides it.
    const tips = await page.locator('button.tip').evaluateAll((bs) => bs.map((b) => b.getAttribute('aria-describedby')));
    expect(tips.length).toBeGreaterThanOrEqual(10);
    for (const id of tips) expect(await page.locator(`#${id}[role="tooltip"]`).count()).toBe(1);
    await page.focus('button[aria-describedby="tip-projected"]');
    expect(await page.isVisible('#tip-projected')).toBe(true);
    expect(await page.textContent('#tip-projected')).toMatch(/current pace \(.+\)/); // the API's projection method, in words
    await page.keyboard.press('Escape');
    expect(await page.isVisible('#tip-projected')).toBe(false);
  });

  test('at phone width the overview fits the screen', async () => {
    await page.click('#tab-compact');
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(300);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: path.join(OUT, 'overview-phone.png'), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  test('an unreachable server shows a clear message and the page keeps the last figures', async () => {
    await page.route('**/api/**', (route) => route.abort('connectionrefused'));
    await page.route('**/ready', (route) => route.abort('connectionrefused'));
    await page.waitForFunction(() => /cannot be reached/.test(document.getElementById('banner')?.textContent ?? ''), undefined, { timeout: LIVE_UPDATE_MS });
    expect(await page.isVisible('#banner')).toBe(true);
    expect(await page.getAttribute('#health', 'data-state')).toBe('down');
    expect(await attr('#total-calls', 'data-value')).toBe('4');
    await page.screenshot({ path: path.join(OUT, 'unreachable.png'), fullPage: true });
    await page.unroute('**/api/**');
    await page.unroute('**/ready');
    await page.waitForFunction(() => document.getElementById('banner')?.hidden === true, undefined, { timeout: LIVE_UPDATE_MS });
  });

  test('reaching the limit: alerts at 90 and 100 percent, mark all read, and the next call refused and logged', async () => {
    await chat(aliceKey, 'gpt-4o-mini', 'alice question 4, the fifth call');
    await page.waitForFunction(() => document.getElementById('total-calls')?.dataset.value === '5', undefined, { timeout: LIVE_UPDATE_MS });
    expect(await page.textContent('#limits li[data-limit="openai_calls"]')).toContain('5 of 5 OpenAI calls');
    expect(await attr('#limits li[data-limit="openai_calls"] .bar', 'data-band')).toBe('critical');
    await page.waitForFunction(() => document.getElementById('usage-status')?.dataset.status === 'limit_reached', undefined, { timeout: LIVE_UPDATE_MS });

    // The sixth call is refused by the gateway before it reaches the provider.
    const upstreamBefore = fake.requests.length;
    const refused = await fetch(`${t.url}/proxy/openai/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${aliceKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'one too many' }] }),
    });
    expect(refused.status).toBe(429);
    expect(fake.requests.length).toBe(upstreamBefore);

    await page.click('#tab-detailed');
    for (const threshold of [90, 100]) await page.locator(`#alerts li[data-limit="openai_calls"][data-threshold="${threshold}"]`).waitFor({ timeout: LIVE_UPDATE_MS });
    const unread = (await api('GET', '/api/subscription/alerts/alice', aliceKey)).alerts.filter((a: any) => !a.is_read);
    expect(unread.map((a: any) => `${a.limit}@${a.threshold}`)).toEqual(expect.arrayContaining(['openai_calls@90', 'openai_calls@100']));
    await page.waitForFunction((n) => document.querySelectorAll('#alerts li[data-read="false"]').length === n, unread.length);
    await page.click('#mark-all-read');
    await page.waitForFunction(() => document.querySelectorAll('#alerts li[data-read="false"]').length === 0);
    expect((await api('GET', '/api/subscription/alerts/alice', aliceKey)).alerts.every((a: any) => a.is_read)).toBe(true);

    // The refusal shows in the usage log; the "Refused" filter keeps only it.
    const logs = await api('GET', '/api/subscription/usage/alice/logs?provider=openai', aliceKey);
    expect(logs.items).toHaveLength(6);
    await page.waitForFunction(() => document.querySelectorAll('#log-table tbody tr[data-provider="openai"]').length === 6, undefined, { timeout: LIVE_UPDATE_MS });
    await page.selectOption('#log-status', 'refused');
    await page.click('#log-filters button[type="submit"]');
    const refusedApi = await api('GET', '/api/subscription/usage/alice/logs?status=refused', aliceKey);
    expect(refusedApi.items).toHaveLength(1);
    await page.waitForFunction((id) => {
      const rows = Array.from(document.querySelectorAll('#log-table tbody tr[data-id]')) as HTMLElement[];
      return rows.length === 1 && rows[0].dataset.id === id;
    }, refusedApi.items[0].id);
    expect(await page.textContent('#log-table tbody')).toContain('refused');
    await page.screenshot({ path: path.join(OUT, 'details-limit-reached.png'), fullPage: true });
    await page.selectOption('#log-status', '');
    await page.click('#log-filters button[type="submit"]');
    await page.click('#tab-compact');
  });

  test('a tenant key picks one of its users; each user sees only their own figures', async () => {
    await page.click('#sign-out');
    expect(await page.evaluate(() => Object.keys(sessionStorage).filter((k) => k.includes('key')).length)).toBe(0);
    await signIn(tenantKey);
    await page.waitForSelector('#picker:not([hidden])');
    await page.waitForFunction(() => document.querySelectorAll('#user-select option[value="bob"]').length === 1);
    const options = await page.locator('#user-select option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
    expect(options).toEqual(expect.arrayContaining(['alice', 'bob']));
    await page.selectOption('#user-select', 'bob');
    await page.click('#picker-form button[type="submit"]');
    const bobDash = await api('GET', '/api/subscription/dashboard/bob', bobKey);
    await page.waitForFunction((n) => document.getElementById('total-calls')?.dataset.value === String(n), bobDash.current_usage.total_calls);
    expect(bobDash.current_usage.total_calls).toBe(2);
    expect(Number(await attr('#total-cost', 'data-value'))).toBe(bobDash.current_usage.total_cost);
    expect(await page.textContent('#plan-name')).toBe(bobDash.limits.plan_name);
    await page.click('#tab-detailed');
    await page.waitForFunction(() => document.querySelectorAll('#log-table tbody tr[data-id]').length === 2);
    const body = await page.textContent('#view-detailed');
    expect(body).toContain('gpt-3.5-turbo');
    expect(body).not.toContain('gpt-4o-mini');
    await page.screenshot({ path: path.join(OUT, 'tenant-viewing-bob.png'), fullPage: true });

    // A user key cannot reach another user's figures: bob's key asking for alice is a 404, and the page says so.
    await page.click('#sign-out');
    await signIn(bobKey);
    await page.waitForFunction(() => document.getElementById('total-calls')?.dataset.value === '2');
    const foreign = await t.request('GET', '/api/subscription/dashboard/alice', { key: bobKey });
    expect(foreign.status).toBe(404);
  });

  test('after the period closes, the billing history shows the record the API returns', async () => {
    t.clock.set('2025-04-11T00:00:00.000Z');
    await api('POST', '/api/admin/jobs/period-close', TEST_ADMIN_KEY, {});
    await t.settle();
    const billing = await api('GET', '/api/subscription/billing/alice', aliceKey);
    expect(billing.billing_history.length).toBeGreaterThan(0);
    const record = billing.billing_history[0];

    await page.click('#sign-out');
    await signIn(aliceKey);
    await page.waitForSelector('#board:not([hidden])');
    await page.click('#tab-detailed');
    await page.waitForFunction((id) => document.querySelector(`#billing-table tr[data-id="${id}"]`) !== null, record.billing_id, { timeout: LIVE_UPDATE_MS });
    const row = await page.textContent(`#billing-table tr[data-id="${record.billing_id}"]`);
    expect(row).toContain(record.status);
    expect(row).toContain(record.plans[0].plan_name);
    // The new period starts from zero.
    await page.waitForFunction(() => document.getElementById('total-calls')?.dataset.value === '0', undefined, { timeout: LIVE_UPDATE_MS });
    await page.screenshot({ path: path.join(OUT, 'details-billing.png'), fullPage: true });
  });

  test('no script errors on the page', () => {
    expect(pageErrors).toEqual([]);
  });
});
