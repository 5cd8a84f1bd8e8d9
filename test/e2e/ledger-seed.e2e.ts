import { Writable } from 'stream';
import { EVENT_STORE, EventStore } from '../../libs/event-store/port';
import { READ_STORE, ReadStore } from '../../libs/read-store/port';
import { APP_CONFIG, AppConfig } from '../../src/shell';
import { createLogger } from '../../src/shell/logger';
import { UsageLedger } from '../../src/metering/application/usage-ledger';
import { USAGE_SUMMARIES_PROJECTION } from '../../src/metering/projections/usage-summary.projection';
import { startTestApp, TEST_ADMIN_KEY, TestApp } from '../support/test-app';

/**
 * A restart starts the usage ledger from usage_summaries (their checkpoint C and documents) instead of folding the
 * whole log: limits answer after the restart exactly as before it, to the call and to the token.
 */
describe('Usage ledger across a restart: seeded from usage_summaries', () => {
  const TENANT = 'shop-seed';
  let first: TestApp | null = null;
  let second: TestApp | null = null;
  afterAll(async () => {
    await first?.close();
    await second?.close();
  });

  const events = (t: TestApp, user: string, n: number, prefix: string, tokens: { input_tokens: number; output_tokens: number }) =>
    Array.from({ length: n }, (_, i) => ({ id: `${prefix}-${i}`, user_id: user, provider: 'openai', model: 'gpt-4o', ...tokens, occurred_at: t.clock.now().toISOString(), latency_ms: 40 }));

  it('refuses exactly at the boundary after a restart, and logs that it seeded from the summaries at their checkpoint', async () => {
    first = await startTestApp();
    const t1 = first;
    expect((await t1.request('POST', '/api/admin/tenants', { key: TEST_ADMIN_KEY, body: { tenant_id: TENANT, name: 'Seed shop', default_plan_id: 'enterprise' } })).status).toBe(201);
    const tenantKey: string = (await t1.request('POST', `/api/admin/tenants/${TENANT}/keys`, { key: TEST_ADMIN_KEY, body: { role: 'tenant' } })).body.key;
    const plan = await t1.request('PUT', '/api/admin/plans/tg-seed', {
      key: TEST_ADMIN_KEY,
      body: { name: 'Seed', monthly_price: 1, yearly_price: 10, limits: { openai_calls: 10, total_tokens: 1000 } },
    });
    expect(plan.status).toBeLessThan(300);
    for (const user of ['u-edge', 'u-other'])
      expect((await t1.request('POST', '/api/subscription/subscribe', { key: tenantKey, body: { user_id: user, plan_id: 'tg-seed', billing_cycle: 'monthly' } })).status).toBeLessThan(300);
    const report = (t: TestApp, evs: unknown[]) => t.request('POST', '/api/usage/events', { key: tenantKey, body: { events: evs } });
    const check = (t: TestApp, body: Record<string, unknown>) => t.request('POST', '/api/usage/check', { key: tenantKey, body: { user_id: 'u-edge', provider: 'openai', model: 'gpt-4o', ...body } });

    // 7 calls of 110 tokens (770), one of them reported twice (counted once); another user's usage; a refusal.
    const seven = events(t1, 'u-edge', 7, 'edge', { input_tokens: 100, output_tokens: 10 });
    expect((await report(t1, seven)).body.accepted).toBe(7);
    expect((await report(t1, [seven[3]])).body.duplicate).toBe(1);
    expect((await report(t1, events(t1, 'u-other', 10, 'other', { input_tokens: 1, output_tokens: 1 }))).body.accepted).toBe(10);
    expect((await t1.request('POST', '/api/usage/check', { key: tenantKey, body: { user_id: 'u-other', provider: 'openai' } })).status).toBe(429);
    await t1.settle();
    const tokensBefore = await check(t1, { input_tokens: 230 });
    expect(tokensBefore.status).toBe(200);
    const { dataDir } = t1;
    await t1.close();
    first = null;

    second = await startTestApp({ dataDir });
    const t2 = second;
    const reads = t2.app.get<ReadStore>(READ_STORE);
    const checkpoint = await reads.getCheckpoint(USAGE_SUMMARIES_PROJECTION);
    expect(checkpoint).toBeGreaterThan(0n);
    const ledger = t2.app.get(UsageLedger);
    expect(ledger.boot).toMatchObject({ from: 'usage-summaries', checkpoint, seededPeriods: 2, followedEvents: 0 });

    // The same headroom as before the restart: 770 tokens used, 230 more fit, 231 do not.
    const tokensAfter = await check(t2, { input_tokens: 230 });
    expect(tokensAfter.status).toBe(200);
    expect(tokensAfter.body.remaining).toEqual(tokensBefore.body.remaining);
    expect(tokensAfter.body.remaining).toEqual(expect.objectContaining({ openai_calls: 2, total_tokens: 0 }));
    const overTokens = await check(t2, { input_tokens: 231 });
    expect(overTokens.status).toBe(429);
    expect(overTokens.body.error.details).toEqual(expect.objectContaining({ limit: 'total_tokens', limit_value: 1000, used: 770, requested: 231 }));
    // The other user is still at its limit.
    expect((await t2.request('POST', '/api/usage/check', { key: tenantKey, body: { user_id: 'u-other', provider: 'openai' } })).body.error.details).toEqual(
      expect.objectContaining({ limit: 'openai_calls', used: 10 }),
    );

    // Calls without tokens: the 9th leaves 1 call, the 10th fits exactly, then the next is refused.
    expect((await report(t2, events(t2, 'u-edge', 2, 'edge-after', { input_tokens: 0, output_tokens: 0 }))).body.accepted).toBe(2);
    const lastOne = await check(t2, { input_tokens: 0 });
    expect(lastOne.status).toBe(200);
    expect(lastOne.body.remaining).toEqual(expect.objectContaining({ openai_calls: 0 }));
    expect((await report(t2, events(t2, 'u-edge', 1, 'edge-last', { input_tokens: 0, output_tokens: 0 }))).body.accepted).toBe(1);
    const refused = await check(t2, { input_tokens: 0 });
    expect(refused.status).toBe(429);
    expect(refused.body.error.details).toEqual(expect.objectContaining({ limit: 'openai_calls', limit_value: 10, used: 10, requested: 1 }));

    // What a boot on these stores logs (the app's own logger is silent in tests): seeded at the summaries' checkpoint.
    await t2.settle();
    const lines: string[] = [];
    createLogger('info', new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) }));
    const again = new UsageLedger(t2.app.get<EventStore>(EVENT_STORE), t2.app.get<AppConfig>(APP_CONFIG), reads);
    try {
      await again.onApplicationBootstrap();
    } finally {
      await again.onModuleDestroy();
      createLogger('silent');
    }
    const now = await reads.getCheckpoint(USAGE_SUMMARIES_PROJECTION);
    const logged = lines.map((l) => JSON.parse(l)).filter((l) => l.component === 'usage-ledger');
    expect(logged).toEqual([
      expect.objectContaining({ level: 'info', from: 'usage-summaries', checkpoint: String(now), seededPeriods: 2, msg: `Usage ledger seeded from usage_summaries at checkpoint ${now}, then followed 0 events` }),
    ]);
  });
});
