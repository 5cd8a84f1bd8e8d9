import * as genai from '@pydantic/genai-prices';
import { Money } from '../../../libs/money';
import { costOf } from './cost';
import { PriceCatalog } from './price-catalog';
import { defaultCatalogEvents } from './import-plan';
import { GENAI_PROVIDERS } from './default-catalog';
import { MatchRule } from './price';
import { genaiCandidates, uuidFrom } from '../application/catalog-store';
import { installedGenaiProviders } from '../infrastructure/genai-prices.source';

/** Model names a rule matches: its `equals` values, `starts_with` + a suffix, `contains` values. */
function namesFor(rule: MatchRule): string[] {
  if ('or' in rule) return rule.or.flatMap(namesFor);
  if ('and' in rule) return namesFor(rule.and[0]);
  if ('equals' in rule) return [rule.equals];
  if ('starts_with' in rule) return [rule.starts_with, `${rule.starts_with}2025-01-01`];
  if ('contains' in rule) return [rule.contains];
  if ('ends_with' in rule) return [`x-${rule.ends_with}`];
  return [];
}

const USAGES = [
  { input_tokens: 1000, output_tokens: 500, cache_read_tokens: 0, cache_write_tokens: 0, reasoning_tokens: 0, units: 0 },
  { input_tokens: 12345, output_tokens: 678, cache_read_tokens: 4000, cache_write_tokens: 0, reasoning_tokens: 0, units: 0 },
  { input_tokens: 50000, output_tokens: 2000, cache_read_tokens: 10000, cache_write_tokens: 5000, reasoning_tokens: 0, units: 0 },
  { input_tokens: 250000, output_tokens: 9000, cache_read_tokens: 100000, cache_write_tokens: 20000, reasoning_tokens: 0, units: 0 },
  { input_tokens: 200001, output_tokens: 1, cache_read_tokens: 1, cache_write_tokens: 1, reasoning_tokens: 0, units: 0 },
  { input_tokens: 7, output_tokens: 3, cache_read_tokens: 0, cache_write_tokens: 0, reasoning_tokens: 0, units: 0 },
];
const MOMENTS = ['2025-03-01T00:00:00Z', '2025-07-01T00:00:00Z', '2026-04-01T00:00:00Z', '2026-09-01T00:00:00Z', '2027-02-01T00:00:00Z'].map((s) => new Date(s));

describe('Parity with @pydantic/genai-prices calcPrice', () => {
  // Given the default catalog as it is written at first start
  const catalog = new PriceCatalog();
  defaultCatalogEvents(genaiCandidates(), uuidFrom).forEach((e, i) => catalog.apply({ id: e.id, position: BigInt(i), data: e.data }));

  it('prices every model of Tollgate providers exactly as the package does (1e-9 relative), tiers and cache tokens included', () => {
    let compared = 0;
    const mismatches: string[] = [];
    for (const p of installedGenaiProviders()) {
      const provider = GENAI_PROVIDERS[p.id];
      for (const m of p.models) {
        const names = [...new Set([m.id, ...namesFor(m.match as MatchRule)])];
        for (const name of names) {
          for (const at of MOMENTS) {
            for (const usage of USAGES) {
              const theirs = genai.calcPrice({ input_tokens: usage.input_tokens, output_tokens: usage.output_tokens, cache_read_tokens: usage.cache_read_tokens, cache_write_tokens: usage.cache_write_tokens }, name, { providerId: p.id, timestamp: at });
              if (!theirs || theirs.provider.id !== p.id) continue;
              // When Tollgate has a catalog key of that exact name it uses it; compare against the package's own model only.
              const r = catalog.resolve(provider, name, at);
              expect(r).not.toBeNull();
              const ours = costOf(r!.entry.components, usage);
              const expected = new Money(theirs.total_price);
              const ok = expected.isZero() ? ours.isZero() : ours.minus(expected).abs().div(expected).lte('1e-9');
              if (!ok) mismatches.push(`${p.id} ${name} @${at.toISOString()} ${JSON.stringify(usage)}: ours ${ours.toFixed()} theirs ${theirs.total_price} (${r!.model_key} vs ${theirs.model.id})`);
              compared++;
            }
          }
        }
      }
    }
    expect(mismatches.slice(0, 20)).toEqual([]);
    expect(compared).toBeGreaterThan(5000);
  });
});
