import { Money } from '../../../libs/money';
import { decideAdmission, LimitDecision, PeriodUsageState, PlannedCall } from './limit-decision';
import { applyDelta, emptyTotals, UsageDelta } from './usage-totals';

const PERIOD = { period_end: '2025-04-01T00:00:00.000Z', now: new Date('2025-03-31T23:59:00.000Z') };

const call = (provider: string, calls = 1, tokens = 0, cost = '0'): UsageDelta => ({ provider, calls, tokens, cost: new Money(cost) });

/** given(recorded calls).reserved(calls in flight).when(planned call, limits).then(decision) */
function given(...recorded: UsageDelta[]) {
  const state: PeriodUsageState = { counted: emptyTotals(), reserved: emptyTotals() };
  for (const d of recorded) applyDelta(state.counted, d);
  const api = {
    reserved(...inFlight: UsageDelta[]) {
      for (const d of inFlight) applyDelta(state.reserved, d);
      return api;
    },
    when(planned: { provider: string; tokens?: number; cost?: string }, limits: Record<string, number>) {
      const p: PlannedCall = { provider: planned.provider, tokens: planned.tokens ?? 0, cost: new Money(planned.cost ?? '0') };
      const decision = decideAdmission(state, limits, p, PERIOD);
      return { then: (expected: LimitDecision) => expect(decision).toEqual(expected) };
    },
  };
  return api;
}

describe('The limit decision', () => {
  it('admits a call under every limit and reports the headroom left after it', () => {
    given(call('openai'), call('openai', 1, 100, '0.25'))
      .when({ provider: 'openai', tokens: 50, cost: '0.01' }, { openai_calls: 3, total_calls: 10, total_tokens: 1000, monthly_cost: 1, gemini_calls: 5 })
      .then({ ok: true, remaining: { openai_calls: 0, total_calls: 7, total_tokens: 850, monthly_cost: 0.74, gemini_calls: 5 } });
  });

  it("refuses a call when its provider's call limit is already reached, naming the limit, its value and the period end", () => {
    given(call('openai'), call('openai'), call('openai'))
      .when({ provider: 'openai' }, { openai_calls: 3 })
      .then({
        ok: false,
        refusal: {
          limit: 'openai_calls',
          limit_value: 3,
          used: 3,
          requested: 1,
          period_end: '2025-04-01T00:00:00.000Z',
          message: 'Usage limit reached: openai_calls is 3 per period and 3 are used; the period ends 2025-04-01T00:00:00.000Z.',
          retry_after_seconds: 60,
        },
      });
  });

  it("does not apply another provider's limits", () => {
    given(call('gemini'), call('gemini'))
      .when({ provider: 'openai' }, { gemini_calls: 2, openai_calls: 1 })
      .then({ ok: true, remaining: { openai_calls: 0, gemini_calls: 0 } });
  });

  it('counts calls in flight (reservations) as used', () => {
    given(call('openai'))
      .reserved(call('openai'))
      .when({ provider: 'openai' }, { total_calls: 2 })
      .then({
        ok: false,
        refusal: expect.objectContaining({ limit: 'total_calls', limit_value: 2, used: 2, requested: 1 }),
      });
  });

  it('refuses a call whose prompt would break the token limit, though the limit is not yet reached', () => {
    given(call('anthropic', 1, 900))
      .when({ provider: 'anthropic', tokens: 200 }, { anthropic_tokens: 1000 })
      .then({
        ok: false,
        refusal: expect.objectContaining({
          limit: 'anthropic_tokens',
          used: 900,
          requested: 200,
          message: 'Usage limit reached: anthropic_tokens is 1,000 per period and 900 are used, and this call would add 200; the period ends 2025-04-01T00:00:00.000Z.',
        }),
      });
  });

  it('refuses any call once the token limit is reached, even one whose prompt size is unknown', () => {
    given(call('openai', 1, 1000))
      .when({ provider: 'openai', tokens: 0 }, { total_tokens: 1000 })
      .then({ ok: false, refusal: expect.objectContaining({ limit: 'total_tokens', used: 1000, requested: 0 }) });
  });

  it('refuses on monthly_cost with exact sums: ten calls of $0.1 reach a $1 limit', () => {
    given(...Array.from({ length: 10 }, () => call('openai', 1, 0, '0.1')))
      .when({ provider: 'openai' }, { monthly_cost: 1 })
      .then({
        ok: false,
        refusal: expect.objectContaining({ limit: 'monthly_cost', limit_value: 1, used: 1, requested: 0, message: expect.stringContaining('monthly_cost is $1 per period and $1 are used') }),
      });
  });

  it('admits a call that exactly fills a limit', () => {
    given(call('tavily', 1, 0, '0.999'))
      .when({ provider: 'tavily', cost: '0.001' }, { monthly_cost: 1, tavily_calls: 2 })
      .then({ ok: true, remaining: { tavily_calls: 0, monthly_cost: 0 } });
  });

  it('leaves 0 remaining (and refuses) when usage is over a limit after a downgrade', () => {
    given(...Array.from({ length: 5 }, () => call('openai')))
      .when({ provider: 'gemini' }, { openai_calls: 3, total_calls: 100 })
      .then({ ok: true, remaining: { openai_calls: 0, total_calls: 94 } });
    given(...Array.from({ length: 5 }, () => call('openai')))
      .when({ provider: 'openai' }, { openai_calls: 3 })
      .then({ ok: false, refusal: expect.objectContaining({ limit: 'openai_calls', used: 5 }) });
  });

  it('treats an absent limit as unlimited and ignores keys that are not usage limits', () => {
    given(...Array.from({ length: 50 }, () => call('openai', 1, 1000, '5')))
      .when({ provider: 'openai', tokens: 10_000 }, { seats: 1, images_per_day: 0 })
      .then({ ok: true, remaining: {} });
  });

  it("names the provider's limit first when several are broken", () => {
    given(call('openai'))
      .when({ provider: 'openai' }, { total_calls: 1, openai_calls: 1, monthly_cost: 0 })
      .then({ ok: false, refusal: expect.objectContaining({ limit: 'openai_calls' }) });
  });
});
