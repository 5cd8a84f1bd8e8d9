import fc from 'fast-check';
import { Money } from '../../../libs/money';
import { costOf, costString } from './cost';
import { PER, PriceComponents } from './price';
import type { UsageVector } from '../../metering';

/** The reference: every component priced in decimal.js, rate x quantity / per, as the rules in cost.ts state them. */
function reference(components: PriceComponents, u: UsageVector): string {
  const has = (k: string) => components[k] !== undefined;
  const cacheRead = has('cache_read_mtok') ? u.cache_read_tokens : 0;
  const cacheWrite = has('cache_write_mtok') ? u.cache_write_tokens : 0;
  const prompt = Math.max(u.input_tokens, cacheRead + cacheWrite);
  const reasoning = has('output_reasoning_mtok') ? Math.min(u.reasoning_tokens, u.output_tokens) : 0;
  const q: Record<string, number> = {
    input_mtok: prompt - cacheRead - cacheWrite,
    cache_read_mtok: cacheRead,
    cache_write_mtok: cacheWrite,
    output_mtok: u.output_tokens - reasoning,
    output_reasoning_mtok: reasoning,
    requests_kcount: 1,
    unit: u.units,
  };
  let total = new Money(0);
  for (const [k, per] of Object.entries(PER)) if (has(k) && q[k]) total = total.plus(new Money(components[k] as string).times(q[k]).div(per));
  return total.toFixed();
}

const price = fc.tuple(fc.nat({ max: 99_999 }), fc.nat({ max: 8 })).map(([digits, places]) => new Money(digits).div(10 ** places).toFixed());
const components = fc.dictionary(fc.constantFrom(...Object.keys(PER)), price, { minKeys: 1 }) as fc.Arbitrary<PriceComponents>;
const usage = fc.record({
  input_tokens: fc.nat({ max: 5_000_000 }),
  output_tokens: fc.nat({ max: 500_000 }),
  cache_read_tokens: fc.nat({ max: 500_000 }),
  cache_write_tokens: fc.nat({ max: 100_000 }),
  reasoning_tokens: fc.nat({ max: 100_000 }),
  units: fc.nat({ max: 1_000 }),
});

describe('The cost of a call in integers (costString), against decimal.js', () => {
  it('given any plain prices and usage, then the integer path gives the exact decimal, digit for digit', () => {
    fc.assert(
      fc.property(components, usage, (c, u) => {
        const exact = reference(c, u);
        const fast = costString(c, u);
        if (fast !== null) expect(fast).toBe(exact);
        expect(costOf(c, u).toFixed()).toBe(exact);
      }),
      { numRuns: 2_000 },
    );
  });

  it('given gpt-4o-mini at $0.15 / $0.60 per million, when 120 in and 45 out, then 0.0000450, written without trailing zeros', () => {
    expect(costString({ input_mtok: '0.15', output_mtok: '0.6' }, { input_tokens: 120, output_tokens: 45, cache_read_tokens: 0, cache_write_tokens: 0, reasoning_tokens: 0, units: 0 })).toBe('0.000045');
  });

  it('given a tiered rate, then the integer path steps aside and decimal.js prices the tier', () => {
    const tiered: PriceComponents = { input_mtok: { base: '1.25', tiers: [{ start: 200_000, price: '2.5' }] }, output_mtok: '10' };
    const u = { input_tokens: 300_000, output_tokens: 0, cache_read_tokens: 0, cache_write_tokens: 0, reasoning_tokens: 0, units: 0 };
    expect(costString(tiered, u)).toBeNull();
    expect(costOf(tiered, u).toFixed()).toBe('0.75');
  });

  it('given amounts past the safe-integer range, then decimal.js sums them, still exact', () => {
    const u = { input_tokens: 4_000_000_000_000, output_tokens: 0, cache_read_tokens: 0, cache_write_tokens: 0, reasoning_tokens: 0, units: 0 };
    expect(costString({ input_mtok: '12345.6789' }, u)).toBeNull();
    expect(costOf({ input_mtok: '12345.6789' }, u).toFixed()).toBe('49382715600');
  });
});
