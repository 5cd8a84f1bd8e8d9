import fc from 'fast-check';
import { Money, scaledToExact } from '../../../libs/money';
import { alertDecider, AlertEvent, thresholdsReached, UsageAlertRaisedData } from './alert';
import { describeAlert, describeRenewal } from './alert-wording';
import { addUsageInPlace, emptyTotals, UsageTotals } from './limit-usage';
import { severityFor } from './severity';

const raised: UsageAlertRaisedData = {
  alert_id: 'a-1',
  kind: 'usage',
  tenant_id: 'shop',
  user_id: 'alice',
  plan_id: 'pro',
  limit: 'gemini_calls',
  threshold: 80,
  value: 4000,
  value_exact: '4000',
  limit_value: 5000,
  severity: 'info',
  title: 'API Usage Notice - Gemini',
  message: 'You have used 4,000 of 5,000 Gemini API calls',
  period_start: '2025-03-01T00:00:00.000Z',
  period_end: '2025-04-01T00:00:00.000Z',
  usage_id: 'u-4000',
  raised_at: '2025-03-10T12:00:00.000Z',
};

function given(events: AlertEvent[]) {
  const state = events.reduce(alertDecider.evolve, alertDecider.initialState());
  return { when: (command: Parameters<typeof alertDecider.decide>[0]) => ({ then: (expected: AlertEvent[]) => expect(alertDecider.decide(command, state)).toEqual(expected), thenThrows: (code: string) => expect(() => alertDecider.decide(command, state)).toThrow(expect.objectContaining({ code })) }) };
}

function calls(provider: string, n: number, tokensEach = 10, costEach = '0.001'): UsageTotals {
  let t = emptyTotals();
  for (let i = 0; i < n; i++) t = addUsageInPlace(t, { provider, tokens: tokensEach, units: 0, cost: costEach });
  return t;
}

describe('An alert stream', () => {
  it('raises an alert once', () => {
    given([]).when({ type: 'RaiseUsageAlert', data: raised }).then([{ type: 'UsageAlertRaised', data: raised }]);
  });

  it('raises nothing the second time (a replay, a concurrent crossing, another instance)', () => {
    given([{ type: 'UsageAlertRaised', data: raised }]).when({ type: 'RaiseUsageAlert', data: { ...raised, value: 4001 } }).then([]);
  });

  it('records the read state once', () => {
    const read = { alert_id: 'a-1', tenant_id: 'shop', user_id: 'alice', read_at: '2025-03-11T00:00:00.000Z' };
    given([{ type: 'UsageAlertRaised', data: raised }]).when({ type: 'MarkAlertRead', data: read }).then([{ type: 'AlertRead', data: read }]);
    given([{ type: 'UsageAlertRaised', data: raised }, { type: 'AlertRead', data: read }]).when({ type: 'MarkAlertRead', data: read }).then([]);
  });

  it('refuses to mark an alert that was never raised', () => {
    given([]).when({ type: 'MarkAlertRead', data: { alert_id: 'x', tenant_id: 'shop', user_id: 'alice', read_at: '2025-03-11T00:00:00.000Z' } }).thenThrows('not_found');
  });
});

describe('Thresholds', () => {
  it('are info at 80, warning at 90, critical at 100', () => {
    expect([severityFor(80), severityFor(90), severityFor(100), severityFor(50), severityFor(120)]).toEqual(['info', 'warning', 'critical', 'info', 'critical']);
  });

  it('reached at 80 percent of a provider limit give the specification\'s wording', () => {
    const got = thresholdsReached({ gemini_calls: 5000 }, [80, 90, 100], calls('gemini', 4000), new Set());
    expect(got.map((r) => ({ ...r, value: r.value.toNumber() }))).toEqual([
      { limit: 'gemini_calls', threshold: 80, value: 4000, limit_value: 5000, severity: 'info', title: 'API Usage Notice - Gemini', message: 'You have used 4,000 of 5,000 Gemini API calls' },
    ]);
  });

  it('one short of 80 percent raise nothing', () => {
    expect(thresholdsReached({ gemini_calls: 5000 }, [80, 90, 100], calls('gemini', 3999), new Set())).toEqual([]);
  });

  it('a jump past several thresholds raises each of them, skipping those already raised', () => {
    const got = thresholdsReached({ total_calls: 10 }, [80, 90, 100], calls('openai', 10), new Set(['total_calls:80']));
    expect(got.map((r) => [r.threshold, r.severity, r.title, r.message])).toEqual([
      [90, 'warning', 'API Usage Warning', 'You have used 10 of 10 API calls'],
      [100, 'critical', 'API Usage Limit Reached', 'You have used 10 of 10 API calls'],
    ]);
  });

  it('count other providers only in totals, and cost exactly', () => {
    const t = addUsageInPlace(calls('openai', 3, 100, '40'), { provider: 'gemini', tokens: 5, units: 0, cost: '0.000001' });
    const got = thresholdsReached({ gemini_calls: 2, monthly_cost: 150, total_tokens: 1000 }, [80], t, new Set());
    expect(got.map((r) => [r.limit, r.value.toFixed(), r.message])).toEqual([['monthly_cost', '120.000001', 'You have used $120.00 of your $150.00 monthly cost limit']]);
  });

  it('ignore a zero limit and a limit without usage', () => {
    expect(thresholdsReached({ gemini_calls: 0, openai_calls: 5 }, [80], calls('tavily', 9), new Set())).toEqual([]);
  });

  it('a cost exactly at a threshold reaches it, and one millionth of a cent below does not', () => {
    const at = (cost: string) => thresholdsReached({ monthly_cost: 0.3 }, [90], { ...emptyTotals(), calls: 1, cost }, new Set()).length;
    expect([at('0.27'), at('0.27000000000000000001'), at('0.26999999999999999999')]).toEqual([1, 1, 0]);
  });

  it('cost thresholds decide as exact decimals do, near the boundary and far from it', () => {
    const exactReached = (cost: string, limit: number, threshold: number) => !new Money(cost).lt(new Money(limit).times(threshold).div(100));
    const cost = fc.tuple(fc.bigInt({ min: 1n, max: 10n ** 14n }), fc.integer({ min: 0, max: 12 })).map(([n, scale]) => scaledToExact(n.toString(), scale));
    // Near the boundary: the cost of threshold% of the limit, give or take a few units of its last place.
    const near = fc.tuple(fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 0, max: 4 }), fc.integer({ min: 1, max: 100 }), fc.integer({ min: -3, max: 3 })).map(([cents, places, threshold, nudge]) => {
      const limit = cents / 10 ** places;
      const exact = new Money(limit).times(threshold).div(100).plus(new Money(nudge).times('1e-12'));
      return { cost: exact.toFixed(), limit, threshold };
    });
    const far = fc.record({ cost, limit: fc.double({ min: 0.01, max: 1e6, noNaN: true }), threshold: fc.integer({ min: 1, max: 150 }) });
    fc.assert(
      fc.property(fc.oneof(near, far), ({ cost: c, limit, threshold }) => {
        fc.pre(!new Money(c).lte(0));
        const got = thresholdsReached({ monthly_cost: limit }, [threshold], { ...emptyTotals(), calls: 1, cost: c }, new Set()).length === 1;
        expect(got).toBe(exactReached(c, limit, threshold));
      }),
      { numRuns: 5_000 },
    );
  });
});

describe('Wording', () => {
  it('names tokens and per-unit limits', () => {
    expect(describeAlert('openai_tokens', 'critical', 1000000, 1000000)).toEqual({ title: 'API Usage Limit Reached - OpenAI', message: 'You have used 1,000,000 of 1,000,000 OpenAI tokens' });
    expect(describeAlert('total_tokens', 'warning', 90500, 100000)).toEqual({ title: 'API Usage Warning', message: 'You have used 90,500 of 100,000 tokens' });
  });

  it('says when a period renews or ends', () => {
    expect(describeRenewal('Pro', '2025-04-01T00:00:00.000Z', 2, false).message).toBe('Your Pro subscription renews on 2025-04-01 (in 2 days); usage counters start again then.');
    expect(describeRenewal('Pro', '2025-04-01T00:00:00.000Z', 1, true)).toEqual({ title: 'Subscription Ending Notice', message: 'Your Pro subscription ends on 2025-04-01 (in 1 day).' });
  });
});
