// The page's formatting rules (src/web/assets/format.js, a browser module), checked in Node.
import { band, daysLeft, limitFigure, limitName, periodRange, timeUtc, usd, usedPct } from './assets/format.js';
import { limitRows, tenantUsers, summary } from './assets/adapters.js';

describe('dashboard formatting', () => {
  test('a limit reads as the specification words it', () => {
    expect(limitFigure('gemini_calls', 800, 5000)).toBe('800 of 5,000 Gemini calls');
    expect(limitFigure('openai_tokens', 12000, 100000)).toBe('12,000 of 100,000 OpenAI tokens');
    expect(limitFigure('total_calls', 1250, 10000)).toBe('1,250 of 10,000 calls');
    expect(limitFigure('monthly_cost', 15.75, 150)).toBe('$15.75 of $150.00 monthly cost');
    expect(limitName('huggingface_calls')).toBe('Hugging Face calls');
    expect(limitName('total_tokens')).toBe('Total tokens');
  });

  test('money shows cents from a dollar up and up to six decimals below', () => {
    expect(usd(0)).toBe('$0.00');
    expect(usd(15.75)).toBe('$15.75');
    expect(usd(1234.5)).toBe('$1,234.50');
    expect(usd(0.5)).toBe('$0.50');
    expect(usd(0.000042)).toBe('$0.000042');
    expect(usd(null)).toBe('–');
  });

  test('a share that rounds to nothing but is not nothing reads <0.1%', () => {
    expect(usedPct(0, 0.000037)).toBe('<0.1%');
    expect(usedPct(0, 0)).toBe('0%');
    expect(usedPct(16, 800)).toBe('16%');
  });

  test('bands follow the plan thresholds', () => {
    expect(band(79.9)).toBe('ok');
    expect(band(80)).toBe('notice');
    expect(band(90)).toBe('warning');
    expect(band(100)).toBe('critical');
    expect(band(130)).toBe('critical');
  });

  test('periods: the end is exclusive; days left count a partial day as one', () => {
    expect(periodRange('2025-03-10T00:00:00.000Z', '2025-04-10T00:00:00.000Z')).toBe('Mar 10, 2025 – Apr 9, 2025');
    expect(daysLeft('2025-04-10T00:00:00.000Z', new Date('2025-03-10T12:00:00.000Z'))).toBe(31);
    expect(daysLeft('2025-04-10T00:00:00.000Z', new Date('2025-04-11T00:00:00.000Z'))).toBe(0);
  });

  test('limit rows take used values from the breakdown and the API percentages', () => {
    const sum = summary({
      dashboard: {
        current_usage: { total_calls: 1250, total_cost: 15.75, usage_status: 'active', provider_breakdown: { gemini: { calls: 800, cost: 10.5, tokens: 125000 } } },
        limits: { plan_name: 'Pro', limits: { gemini_calls: 5000, monthly_cost: 150 } },
        usage_percentages: { gemini_calls: 16, cost: 10.5 },
      },
    });
    expect(limitRows(sum)).toEqual([
      { key: 'gemini_calls', limit: 5000, used: 800, percent: 16 },
      { key: 'monthly_cost', limit: 150, used: 15.75, percent: 10.5 },
    ]);
    expect(sum.planName).toBe('Pro');
  });

  test('a tenant picks among the users of its live user keys', () => {
    expect(tenantUsers({ keys: [{ role: 'tenant' }, { role: 'user', user_id: 'bob' }, { role: 'user', user_id: 'alice' }, { role: 'user', user_id: 'bob' }, { role: 'user', user_id: 'carol', revoked: true }] })).toEqual(['alice', 'bob']);
  });

  test('a time of day is UTC on a 24-hour clock, as the page says "Times are UTC"', () => {
    expect(timeUtc('2025-03-10T16:43:05.123Z')).toBe('16:43:05 UTC');
    expect(timeUtc(Date.parse('2025-03-10T00:05:00Z'))).toBe('00:05:00 UTC');
    expect(timeUtc(null)).toBe('–');
  });
});
