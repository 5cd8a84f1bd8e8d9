import { FALLBACK_MODEL, MatchRule, PriceSetData } from './price';
import { MODEL_ALIASES, dashDates, isPrefixAtBoundary, matches, normalizeModel } from './model-match';

/** One PriceSet as the catalog holds it: its data and where it sits in the log. */
export interface PriceEntry extends PriceSetData {
  event_id: string;
  position: bigint;
  /** effective_from in epoch ms, parsed once when the event is folded. */
  effective_ms?: number;
}

interface KeyHistory {
  provider: string;
  model: string;
  match: MatchRule | null;
  /** Position of the key's first event: the order matching rules are tried in (genai-prices' data order). */
  rank: bigint;
  /** Sorted by effective_from, then position: the last one at or before a time is the price in effect. */
  entries: PriceEntry[];
}

export interface Resolution {
  entry: PriceEntry;
  model_key: string;
  price_source: 'catalog' | 'fallback';
  /** How the key was found. */
  via: 'exact' | 'match' | 'alias' | 'prefix' | 'unit' | 'fallback';
}

/**
 * The price catalog: a pure fold of `PriceSet` events (in any order: entries are kept sorted by effective date and
 * log position, and an event seen twice is ignored), and the lookups usage is priced by.
 */
export class PriceCatalog {
  private readonly providers = new Map<string, Map<string, KeyHistory>>();
  private readonly seen = new Set<string>();
  private readonly orderCache = new Map<string, KeyHistory[]>();
  /** Per provider, every distinct effective time: a resolution holds between two of them. */
  private readonly boundaryCache = new Map<string, number[]>();
  /** Resolutions by provider and model, each valid for times in [from, until): the hot path prices from here. */
  private readonly resolveCache = new Map<string, { from: number; until: number; r: Resolution | null }>();

  apply(event: { id: string; position: bigint; data: PriceSetData }): void {
    if (this.seen.has(event.id)) return;
    this.seen.add(event.id);
    const d = event.data;
    this.orderCache.delete(d.provider);
    this.boundaryCache.delete(d.provider);
    this.resolveCache.clear();
    let keys = this.providers.get(d.provider);
    if (!keys) this.providers.set(d.provider, (keys = new Map()));
    let h = keys.get(d.model);
    if (!h) keys.set(d.model, (h = { provider: d.provider, model: d.model, match: null, rank: event.position, entries: [] }));
    const entry: PriceEntry = { ...d, event_id: event.id, position: event.position, effective_ms: Date.parse(d.effective_from) };
    if (event.position < h.rank) h.rank = event.position;
    h.entries.push(entry);
    h.entries.sort((a, b) => cmp(effectiveMs(a), effectiveMs(b)) || cmp(a.position, b.position));
    // The key's rule is the one of its latest event (by log position) that states one.
    const withRule = h.entries.filter((e) => e.match !== undefined).sort((a, b) => cmp(a.position, b.position));
    h.match = withRule.length ? (withRule[withRule.length - 1].match ?? null) : null;
  }

  has(eventId: string): boolean {
    return this.seen.has(eventId);
  }

  providerIds(): string[] {
    return [...this.providers.keys()].sort();
  }

  /** The price of a key in effect at `at`, or null. */
  priceAt(provider: string, model: string, at: Date): PriceEntry | null {
    const h = this.providers.get(provider)?.get(model);
    return h ? inEffect(h, at.getTime()) : null;
  }

  /** Every PriceSet of a key, oldest effective date first. */
  history(provider: string, model: string): PriceEntry[] {
    return [...(this.providers.get(provider)?.get(model)?.entries ?? [])];
  }

  /** Every entry of every key (for imports that compare against what was imported before). */
  allEntries(): PriceEntry[] {
    return [...this.providers.values()].flatMap((keys) => [...keys.values()].flatMap((h) => h.entries));
  }

  /** Every key's price in effect at `at`, per provider, in catalog order. */
  listAt(at: Date): { provider: string; entries: PriceEntry[] }[] {
    return this.providerIds().map((provider) => ({
      provider,
      entries: this.ordered(provider)
        .map((h) => inEffect(h, at.getTime()))
        .filter((e): e is PriceEntry => e !== null),
    }));
  }

  /**
   * Finds the price of `model` at `at`: the catalog key itself, genai-prices' matching rules (in its data order, then
   * once more with compact dates spelled out), the alias table, the longest known prefix, the provider's only unit
   * price (search, scrape and image providers), and finally the provider's fallback price. Null when the provider has
   * no price at all.
   */
  resolve(provider: string, model: string, at: Date): Resolution | null {
    if (!this.providers.has(provider)) return null;
    const bounds = this.boundaries(provider);
    // Usage dated before the catalog's first version is priced at that first version (never free, never refused).
    const t = Math.max(at.getTime(), bounds[0] ?? -Infinity);
    const cacheKey = provider + '\u0000' + model;
    const cached = this.resolveCache.get(cacheKey);
    if (cached && t >= cached.from && t < cached.until) return cached.r;
    const r = this.resolveUncached(provider, model, t);
    let i = 0;
    while (i < bounds.length && bounds[i] <= t) i++;
    this.resolveCache.set(cacheKey, { from: i > 0 ? bounds[i - 1] : -Infinity, until: i < bounds.length ? bounds[i] : Infinity, r });
    return r;
  }

  private boundaries(provider: string): number[] {
    let b = this.boundaryCache.get(provider);
    if (!b) {
      const set = new Set<number>();
      for (const h of this.providers.get(provider)?.values() ?? []) for (const e of h.entries) set.add(effectiveMs(e));
      b = [...set].sort((x, y) => x - y);
      this.boundaryCache.set(provider, b);
    }
    return b;
  }

  private resolveUncached(provider: string, model: string, t: number): Resolution | null {
    const keys = this.providers.get(provider)!;
    const name = normalizeModel(provider, model);
    const live = this.ordered(provider)
      .map((h) => ({ h, e: inEffect(h, t) }))
      .filter((x): x is { h: KeyHistory; e: PriceEntry } => x.e !== null && x.h.model !== FALLBACK_MODEL);
    const found = (e: PriceEntry, via: Resolution['via']): Resolution => ({ entry: e, model_key: e.model, price_source: 'catalog', via });

    const exact = live.find((x) => x.h.model === name);
    if (exact) return found(exact.e, 'exact');
    for (const candidate of name === dashDates(name) ? [name] : [name, dashDates(name)]) {
      const byRule = live.find((x) => x.h.match && matches(x.h.match, candidate));
      if (byRule) return found(byRule.e, 'match');
    }
    const alias = MODEL_ALIASES[provider]?.[name];
    const aliased = alias ? live.find((x) => x.h.model === alias) : undefined;
    if (aliased) return found(aliased.e, 'alias');
    // Longest known prefix, among the keys and the alias names (`gpt-35-turbo-0125` -> alias `gpt-35-turbo`).
    let best: { prefix: string; e: PriceEntry } | undefined;
    const consider = (prefix: string, e: PriceEntry | undefined) => {
      if (e && isPrefixAtBoundary(prefix, name) && (!best || prefix.length > best.prefix.length)) best = { prefix, e };
    };
    for (const x of live) consider(x.h.model, x.e);
    for (const [aliasName, target] of Object.entries(MODEL_ALIASES[provider] ?? {})) consider(aliasName, live.find((x) => x.h.model === target)?.e);
    if (best) return found(best.e, 'prefix');
    const unitPriced = live.filter((x) => x.e.components.unit !== undefined);
    if (unitPriced.length === 1 && live.length === 1) return found(unitPriced[0].e, 'unit');
    const fallback = keys.get(FALLBACK_MODEL);
    const fb = fallback ? inEffect(fallback, t) : null;
    return fb ? { entry: fb, model_key: FALLBACK_MODEL, price_source: 'fallback', via: 'fallback' } : null;
  }

  private ordered(provider: string): KeyHistory[] {
    let list = this.orderCache.get(provider);
    if (!list) {
      list = [...(this.providers.get(provider)?.values() ?? [])].sort((a, b) => cmp(a.rank, b.rank));
      this.orderCache.set(provider, list);
    }
    return list;
  }
}

function inEffect(h: KeyHistory, t: number): PriceEntry | null {
  let current: PriceEntry | null = null;
  for (const e of h.entries) {
    if (effectiveMs(e) <= t) current = e;
    else break;
  }
  return current;
}

function effectiveMs(e: PriceEntry): number {
  return e.effective_ms ?? (e.effective_ms = Date.parse(e.effective_from));
}

function cmp(a: number | bigint, b: number | bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
