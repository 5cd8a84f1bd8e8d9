import { exactString, Money } from '../../../libs/money';
import { countedFromSummary, CountedSummary } from './ledger-seed';
import { applyDelta, emptyTotals, UsageTotals } from './usage-totals';

/** Money as exact strings, so totals compare by value. */
const plain = (t: UsageTotals | null) =>
  t && {
    total: { ...t.total, cost: exactString(t.total.cost) },
    providers: Object.fromEntries(Object.entries(t.providers).map(([p, c]) => [p, { ...c, cost: exactString(c.cost) }])),
  };

describe('Seeding the usage ledger from a period summary (countedFromSummary)', () => {
  it('given a summary of recorded calls on two providers, then the counted totals are its totals, exact costs kept', () => {
    const given: CountedSummary = {
      total_calls: 3,
      total_tokens: 1_650,
      total_cost: '0.0000013000000000000001',
      providers: {
        openai: { calls: 2, tokens: 1_150, cost: '0.0000013' },
        tavily: { calls: 1, tokens: 500, cost: '0.0000000000000000000001' },
      },
    };
    expect(plain(countedFromSummary(given))).toEqual({
      total: { calls: 3, tokens: 1_650, cost: '0.0000013000000000000001' },
      providers: {
        openai: { calls: 2, tokens: 1_150, cost: '0.0000013' },
        tavily: { calls: 1, tokens: 500, cost: '0.0000000000000000000001' },
      },
    });
  });

  it('given a provider seen only in refusals, then it has no counter (as folding the recorded calls leaves it)', () => {
    const given: CountedSummary = {
      total_calls: 1,
      total_tokens: 10,
      total_cost: '0.5',
      providers: { openai: { calls: 1, tokens: 10, cost: '0.5' }, anthropic: { calls: 0, tokens: 0, cost: '0' } },
    };
    const folded = applyDelta(emptyTotals(), { provider: 'openai', calls: 1, tokens: 10, cost: new Money('0.5') });
    expect(plain(countedFromSummary(given))).toEqual(plain(folded));
    expect(countedFromSummary(given)!.providers.anthropic).toBeUndefined();
  });

  it('given a period with refusals only, then there is nothing to seed', () => {
    expect(countedFromSummary({ total_calls: 0, total_tokens: 0, total_cost: '0', providers: { openai: { calls: 0, tokens: 0, cost: '0' } } })).toBeNull();
  });

  it('given the summary is changed afterwards, then the seeded totals are not (no shared objects)', () => {
    const given: CountedSummary = { total_calls: 1, total_tokens: 2, total_cost: '1', providers: { openai: { calls: 1, tokens: 2, cost: '1' } } };
    const seeded = countedFromSummary(given)!;
    given.providers.openai.calls = 99;
    given.total_calls = 99;
    expect(seeded.total.calls).toBe(1);
    expect(seeded.providers.openai.calls).toBe(1);
  });
});
