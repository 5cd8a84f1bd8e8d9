// Metering's unit specs use small fakes of the facades it consumes; the real modules are exercised in test/e2e.
jest.mock('../../subscriptions', () => ({ SubscriptionsFacade: class SubscriptionsFacade {} }), { virtual: true });
jest.mock('../../pricing', () => ({ PricingFacade: class PricingFacade {} }), { virtual: true });
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { FakeClock } from '../../../libs/clock';
import { SqliteEventStore } from '../../../libs/event-store/sqlite/sqlite-event-store';
import { Money } from '../../../libs/money';
import type { UsageRecordedData, UsageRefusedData } from '../contracts';
import { AdmissionRequest, UsageInput } from './admission';
import { MeteringFacade } from './metering.facade';
import { periodKey, UsageLedger } from './usage-ledger';
import type { AppConfig } from '../../shell';
import { UsageWriter } from './usage-writer';

/** Small fakes of the facades metering consumes (the real ones are exercised end to end in test/e2e). */
const PERIOD = { period_start: '2025-03-01T00:00:00.000Z', period_end: '2025-04-01T00:00:00.000Z' };
function fakeSubscriptions(limits: Record<string, number>) {
  return {
    // Memory never answers here, so every admission takes getEffective's path (the e2e tests take both).
    peekEffective: () => null,
    getEffective: async (tenant_id: string, user_id: string) => ({
      tenant_id,
      user_id,
      subscription_id: 's1',
      plan_id: 'basic',
      plan_name: 'Basic',
      billing_cycle: 'monthly' as const,
      status: 'active' as const,
      ...PERIOD,
      limits,
      alert_thresholds: [80, 90, 100],
    }),
  };
}
const exactly = (cost: Money) => ({ cost, exact: cost.toFixed() });
const fakePricing = {
  // $1 per 1M input tokens, $2 per 1M output tokens, $0.001 a unit.
  quote: (_p: string, model: string, u: { input_tokens: number; output_tokens: number; units: number }) => ({
    ...exactly(new Money(u.input_tokens).times('0.000001').plus(new Money(u.output_tokens).times('0.000002')).plus(new Money(u.units).times('0.001'))),
    price_version: 'test@1',
    price_source: model === 'unknown' ? ('fallback' as const) : ('catalog' as const),
    model_key: model,
  }),
  estimateInputCost: (_p: string, _m: string, tokens: number) => new Money(tokens).times('0.000001'),
};

async function instance(file: string, limits: Record<string, number>) {
  const store = new SqliteEventStore({ file, sync: 'normal', pollIntervalMs: 20 });
  const clock = new FakeClock('2025-03-10T12:00:00.000Z');
  const ledger = new UsageLedger(store, { role: 'server' } as AppConfig);
  await ledger.onApplicationBootstrap();
  const writer = new UsageWriter(store, ledger, clock);
  const facade = new MeteringFacade(ledger, writer, fakePricing as never, fakeSubscriptions(limits) as never, {} as never);
  return { store, ledger, facade, close: async () => (await ledger.onModuleDestroy(), await store.close()) };
}

const request = (i: number, over: Partial<AdmissionRequest> = {}): AdmissionRequest => ({
  tenantId: 't1',
  userId: 'u1',
  provider: 'openai',
  model: 'gpt-4o',
  inputTokens: 10,
  at: new Date('2025-03-10T12:00:00.000Z'),
  requestId: `req-${i}`,
  source: 'gateway',
  ...over,
});
const usage = (id: string, over: Partial<UsageInput> = {}): UsageInput => ({
  usage_id: id,
  provider: 'openai',
  model: 'gpt-4o',
  operation: 'chat',
  input_tokens: 1000,
  output_tokens: 500,
  cache_read_tokens: 0,
  cache_write_tokens: 0,
  reasoning_tokens: 0,
  units: 0,
  latency_ms: 120,
  status: 200,
  streamed: false,
  estimated: false,
  occurred_at: '2025-03-10T12:00:01.000Z',
  ...over,
});
const KEY = periodKey('t1', 'u1', PERIOD.period_start);

describe('MeteringFacade on the embedded event store', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'metering-spec-'))));

  it('admits exactly the remaining number of 200 concurrent calls, and makes every refusal durable', async () => {
    const a = await instance(path.join(dir, 'events.db'), { openai_calls: 15 });
    for (let i = 0; i < 5; i++) {
      const adm = await a.facade.admit(request(1000 + i));
      if (!adm.ok) throw new Error('expected an admission');
      await a.facade.record(adm.reservation, usage(`req-${1000 + i}`));
    }
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => a.facade.admit(request(i))));
    expect(results.filter((r) => r.ok)).toHaveLength(10);
    const refused = results.filter((r) => !r.ok);
    expect(refused).toHaveLength(190);
    expect(refused[0]).toEqual({ ok: false, refusal: expect.objectContaining({ limit: 'openai_calls', limit_value: 15, used: 15, requested: 1 }) });
    const stored = (await a.store.readAll({ maxCount: 10_000 })).filter((e) => e.type === 'UsageRefused');
    expect(stored).toHaveLength(190);
    expect(stored[0].data as UsageRefusedData).toEqual(
      expect.objectContaining({ tenant_id: 't1', user_id: 'u1', provider: 'openai', limit: 'openai_calls', limit_value: 15, used: 15, requested: 1, plan_id: 'basic', source: 'gateway' }),
    );
    await a.close();
  });

  it('records a call priced at its time, counts it at once, releases its reservation, and counts a retried record once', async () => {
    const a = await instance(path.join(dir, 'events.db'), { total_calls: 100 });
    const adm = await a.facade.admit(request(1));
    if (!adm.ok) throw new Error('expected an admission');
    expect(a.ledger.state(KEY).reserved.total).toEqual({ calls: 1, tokens: 10, cost: new Money('0.00001') });
    const rec = await a.facade.record(adm.reservation, usage('req-1'));
    expect(rec).toEqual(
      expect.objectContaining({ usage_id: 'req-1', tenant_id: 't1', user_id: 'u1', source: 'gateway', cost: '0.002', price_version: 'test@1', price_source: 'catalog', period_start: PERIOD.period_start, plan_id: 'basic' }),
    );
    const again = await a.facade.record(adm.reservation, usage('req-1', { output_tokens: 9999 }));
    expect(again.cost).toBe('0.002');
    const s = a.ledger.state(KEY);
    expect(s.counted.total).toEqual({ calls: 1, tokens: 1500, cost: new Money('0.002') });
    expect(s.reserved.total.calls).toBe(0);
    await a.ledger.caughtUp();
    expect(a.ledger.state(KEY).counted.total.calls).toBe(1);
    await a.close();
  });

  it('frees a reservation on release, once', async () => {
    const a = await instance(path.join(dir, 'events.db'), { openai_calls: 1 });
    const first = await a.facade.admit(request(1));
    expect((await a.facade.admit(request(2))).ok).toBe(false);
    if (!first.ok) throw new Error('expected an admission');
    a.facade.release(first.reservation);
    a.facade.release(first.reservation);
    expect(a.ledger.state(KEY).reserved.total.calls).toBe(0);
    expect((await a.facade.admit(request(3))).ok).toBe(true);
    await a.close();
  });

  it('does not reserve or append anything on a dry run', async () => {
    const a = await instance(path.join(dir, 'events.db'), { openai_calls: 0 });
    const r = await a.facade.admit(request(1, { dryRun: true, source: 'check' }));
    expect(r.ok).toBe(false);
    expect(await a.store.headPosition()).toBe(-1n);
    await a.close();
  });

  it("counts another instance's records from the log, and its own only once", async () => {
    const file = path.join(dir, 'events.db');
    const a = await instance(file, { openai_calls: 3 });
    const b = await instance(file, { openai_calls: 3 });
    for (const [inst, id] of [[a, 'a1'], [b, 'b1'], [a, 'a2']] as const) {
      const adm = await inst.facade.admit(request(0, { requestId: id }));
      if (!adm.ok) throw new Error('expected an admission');
      await inst.facade.record(adm.reservation, usage(id));
    }
    await a.ledger.caughtUp();
    await b.ledger.caughtUp();
    expect(a.ledger.state(KEY).counted.total.calls).toBe(3);
    expect(b.ledger.state(KEY).counted.total.calls).toBe(3);
    expect((await b.facade.admit(request(9))).ok).toBe(false);
    // A restarted instance rebuilds its counters from the log before it serves.
    const c = await instance(file, { openai_calls: 3 });
    expect(c.ledger.state(KEY).counted.total).toEqual({ calls: 3, tokens: 4500, cost: new Money('0.006') });
    await Promise.all([a.close(), b.close(), c.close()]);
  });

  it('records a usage id it cannot price as unpriced rather than lose it', async () => {
    const a = await instance(path.join(dir, 'events.db'), {});
    (a.facade as unknown as { pricing: unknown }).pricing = {
      ...fakePricing,
      quote: () => {
        throw new Error('no price');
      },
    };
    const adm = await a.facade.admit(request(1));
    if (!adm.ok) throw new Error('expected an admission');
    const rec: UsageRecordedData = await a.facade.record(adm.reservation, usage('req-1'));
    expect(rec).toEqual(expect.objectContaining({ cost: '0', price_version: 'unpriced', price_source: 'fallback' }));
    await a.close();
  });
});
