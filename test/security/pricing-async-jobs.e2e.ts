import Firecrawl from '@mendable/firecrawl-js';
import Decimal from 'decimal.js';
import { FakeProvider, startFake } from '../fakes/fake-provider';
import { FAKE_USAGE } from '../fakes/provider-answers';
import { GatewayTenant, setupTenant } from '../fakes/tenant-setup';
import { startTestApp, TestApp, TEST_ADMIN_KEY } from '../support/test-app';

/**
 * Paid work is priced (issue 22, item 4): Firecrawl's asynchronous jobs and Stability's endpoints beyond generation.
 * Firecrawl bills a page as $0.002 here (the specification's scrape price, one credit a page).
 */
describe('Paid work is priced: Firecrawl jobs and Stability endpoints', () => {
  let t: TestApp;
  let ten: GatewayTenant;
  let firecrawlFake: FakeProvider;
  let stabilityFake: FakeProvider;
  const PAGE = new Decimal('0.002');

  beforeAll(async () => {
    firecrawlFake = await startFake('firecrawl');
    stabilityFake = await startFake('stability');
    t = await startTestApp({ env: { TOLLGATE_UPSTREAM_FIRECRAWL: firecrawlFake.url, TOLLGATE_UPSTREAM_STABILITY: stabilityFake.url } });
    ten = await setupTenant(t, { tenantId: 'jobs', providers: ['firecrawl', 'stability'], users: ['alice', 'mallory', 'frugal', 'batch', 'pics'] });
    expect((await t.request('PUT', '/api/admin/plans/five-cents', { key: TEST_ADMIN_KEY, body: { name: 'five-cents', monthly_price: 1, yearly_price: 10, limits: { monthly_cost: 0.05 } } })).status).toBe(200);
    expect((await t.request('POST', '/api/subscription/subscribe', { key: ten.tenantKey, body: { user_id: 'frugal', plan_id: 'five-cents', billing_cycle: 'monthly' } })).status).toBeLessThan(300);
  });
  afterAll(async () => {
    await t?.close();
    await firecrawlFake?.stop();
    await stabilityFake?.stop();
  });

  const fc = (user: string) => new Firecrawl({ apiKey: ten.userKeys[user], apiUrl: `${t.url}/proxy/firecrawl` });
  async function logs(user: string) {
    await t.settle();
    const r = await t.request('GET', `/api/subscription/usage/${user}/logs`, { key: ten.userKeys[user] });
    expect(r.status).toBe(200);
    return r.body.items as any[];
  }
  async function totalCost(user: string): Promise<string> {
    await t.settle();
    const r = await t.request('GET', `/api/subscription/usage/${user}`, { key: ten.userKeys[user] });
    expect(r.status).toBe(200);
    return r.body.current_usage.total_cost_exact;
  }

  describe('Firecrawl', () => {
    it('a crawl whose results go to a webhook (no poll ever sees them) is charged its worst case: its limit of pages', async () => {
      const job = await fc('alice').startCrawl('https://example.com', { limit: 50, webhook: 'https://hooks.example.com/crawl' });
      const items = await logs('alice');
      expect(items).toHaveLength(1);
      expect(items[0]).toMatchObject({ id: `firecrawl-crawl-${job.id}`, provider: 'firecrawl', operation: 'crawl', units: 50, cost_exact: PAGE.times(50).toString(), price_source: 'catalog', status: 200 });
      expect(await totalCost('alice')).toBe('0.1');
    });

    it('a polled crawl is settled to its creditsUsed once, whatever the number of polls', async () => {
      const job = await fc('batch').startCrawl('https://example.com', { limit: 10 });
      expect((await fc('batch').getCrawlStatus(job.id)).status).toBe('scraping');
      expect((await fc('batch').getCrawlStatus(job.id)).status).toBe('completed');
      await fc('batch').getCrawlStatus(job.id);
      const items = await logs('batch');
      const byId = Object.fromEntries(items.map((i) => [i.id, i]));
      expect(byId[`firecrawl-crawl-${job.id}`]).toMatchObject({ operation: 'crawl', units: 10, cost_exact: '0.02' });
      expect(byId[`firecrawl-crawl-${job.id}-settlement`]).toMatchObject({ operation: 'crawl_settlement', units: FAKE_USAGE.firecrawlCrawlCredits - 10, cost_exact: '-0.006' });
      expect(items).toHaveLength(2);
      expect(await totalCost('batch')).toBe(PAGE.times(FAKE_USAGE.firecrawlCrawlCredits).toString());
    });

    it('a batch scrape starts at one page per URL and settles to its creditsUsed', async () => {
      const job = await fc('batch').startBatchScrape(['https://a.example', 'https://b.example', 'https://c.example'], { options: { formats: ['markdown'] } });
      expect(await totalCost('batch')).toBe(PAGE.times(FAKE_USAGE.firecrawlCrawlCredits + 3).toString());
      expect((await fc('batch').getBatchScrapeStatus(job.id)).status).toBe('completed');
      expect(await totalCost('batch')).toBe(PAGE.times(FAKE_USAGE.firecrawlCrawlCredits + FAKE_USAGE.firecrawlBatchCredits).toString());
    });

    it('a crawl\'s worst case is reserved at its start: without a limit (10,000 pages, $20) it is refused under monthly_cost $0.05', async () => {
      const hits = firecrawlFake.hits;
      const err = await fc('frugal').startCrawl('https://example.com').catch((e) => e);
      expect(err.status).toBe(429);
      expect(err.message).toContain('monthly_cost');
      expect(firecrawlFake.hits).toBe(hits);
      const job = await fc('frugal').startCrawl('https://example.com', { limit: 20 });
      expect(job.id).toMatch(/^crawl-fake-/);
      expect(await totalCost('frugal')).toBe('0.04');
    });

    it('another user polling a job cannot settle it: the poller is charged nothing and the starter\'s worst case stands', async () => {
      const job = await fc('alice').startCrawl('https://example.com', { limit: 20 });
      expect(await totalCost('alice')).toBe('0.14');
      await fc('mallory').getCrawlStatus(job.id);
      expect((await fc('mallory').getCrawlStatus(job.id)).status).toBe('completed');
      expect(await logs('mallory')).toHaveLength(0);
      expect(await totalCost('alice')).toBe('0.14');
      await fc('alice').getCrawlStatus(job.id);
      expect(await totalCost('alice')).toBe(PAGE.times(50 + FAKE_USAGE.firecrawlCrawlCredits).toString());
    });

    it('an extract job (no bound known before it runs) is not forwarded until the operator prices it', async () => {
      const send = () => fetch(`${t.url}/proxy/firecrawl/v2/extract`, { method: 'POST', headers: { authorization: `Bearer ${ten.userKeys.mallory}`, 'content-type': 'application/json' }, body: JSON.stringify({ urls: ['https://example.com'], prompt: 'the title' }) });
      const hits = firecrawlFake.hits;
      const refused = await send();
      expect(refused.status).toBe(403);
      const body = await refused.json();
      expect(body.success).toBe(false);
      expect(body.error).toContain('"extract"');
      expect(body.error).toContain('PUT /api/admin/pricing/firecrawl/extract');
      expect(firecrawlFake.hits).toBe(hits);
      expect((await t.request('PUT', '/api/admin/pricing/firecrawl/extract', { key: TEST_ADMIN_KEY, body: { prices: { unit: '0.25' } } })).status).toBe(200);
      expect((await send()).status).toBe(200);
      expect((await logs('mallory'))[0]).toMatchObject({ operation: 'extract', units: 1, cost_exact: '0.25', price_source: 'catalog' });
    });
  });

  describe('Stability', () => {
    const post = (path: string) => {
      const form = new FormData();
      form.append('prompt', 'a cat');
      form.append('image', new Blob([Buffer.from([1, 2, 3])], { type: 'image/png' }), 'in.png');
      return fetch(`${t.url}/proxy/stability${path}`, { method: 'POST', headers: { authorization: `Bearer ${ten.userKeys.pics}`, accept: 'image/*' }, body: form });
    };
    const newest = async () => (await logs('pics'))[0];

    it('generation keeps the specification\'s $0.04 an image', async () => {
      expect((await post('/v2beta/stable-image/generate/core')).status).toBe(200);
      expect(await newest()).toMatchObject({ model: 'core', operation: 'image', units: 1, cost_exact: '0.04', price_source: 'catalog' });
    });

    it('an edit (erase) is priced by its published credits: 5 at $0.01', async () => {
      expect((await post('/v2beta/stable-image/edit/erase')).status).toBe(200);
      expect(await newest()).toMatchObject({ model: 'erase', operation: 'edit', units: 1, cost_exact: '0.05', price_source: 'catalog' });
    });

    it('an asynchronous creative upscale is billed when it starts: 60 credits', async () => {
      const r = await post('/v2beta/stable-image/upscale/creative');
      expect(await r.json()).toEqual({ id: 'fake-generation-id' });
      expect(await newest()).toMatchObject({ model: 'creative', operation: 'upscale', units: 1, cost_exact: '0.6', price_source: 'catalog' });
    });

    it('an endpoint with no price (3D) is refused in Stability\'s shape until the operator sets one, then priced by it', async () => {
      const hits = stabilityFake.hits;
      const refused = await post('/v2beta/3d/stable-fast-3d');
      expect(refused.status).toBe(403);
      const body = await refused.json();
      expect(body.name).toBe('forbidden');
      expect(body.errors[0]).toContain('PUT /api/admin/pricing/stability/3d/stable-fast-3d');
      expect(stabilityFake.hits).toBe(hits);
      expect((await t.request('PUT', '/api/admin/pricing/stability/3d/stable-fast-3d', { key: TEST_ADMIN_KEY, body: { prices: { unit: '0.1' } } })).status).toBe(200);
      expect((await post('/v2beta/3d/stable-fast-3d')).status).toBe(200);
      expect(await newest()).toMatchObject({ model: '3d/stable-fast-3d', units: 1, cost_exact: '0.1', price_source: 'catalog', estimated: false });
    });
  });
});
