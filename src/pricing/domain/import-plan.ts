import { FALLBACK_MODEL, MatchRule, PriceComponents, PriceSetData, PriceSource, sameComponents, sameMatch } from './price';
import { PriceCatalog } from './price-catalog';
import { FALLBACK_PRICES, PAID_WORK_PRICES, SPECIFICATION_EFFECTIVE_FROM, SPECIFICATION_PRICES } from './default-catalog';
import { normalizeComponents, priceVersion } from './set-price';

/** A price offered by an import source. */
export interface PriceCandidate {
  provider: string;
  model: string;
  components: PriceComponents;
  match?: MatchRule | null;
  /** When the source says the price applies from (genai-prices' start date); imports never apply before `now`. */
  effective_from?: string;
  source: PriceSource;
  source_ref: string;
  /** The model's maximum output tokens, where the source states it (LiteLLM). Kept with a new price; not a change alone. */
  max_output_tokens?: number;
}

export interface NewPriceSet {
  id: string;
  data: PriceSetData;
}

export interface ImportReport {
  imported: { provider: string; model: string; effective_from: string; price_version: string; reason: 'new' | 'changed' }[];
  skipped: { provider?: string; model?: string; entry?: string; reason: string }[];
}

/** Deterministic event ids from a name (a UUID shape; see the application's uuidFrom). */
export type IdFor = (name: string) => string;

/**
 * The default catalog, written once at first start: the specification's table and the providers' fallback prices from
 * 2025-01-01, then genai-prices' data (its rows carry their own effective dates).
 */
export function defaultCatalogEvents(genaiRows: PriceCandidate[], idFor: IdFor): NewPriceSet[] {
  const rows: (Required<Omit<PriceCandidate, 'match' | 'max_output_tokens'>> & { match?: MatchRule | null })[] = [
    ...SPECIFICATION_PRICES.map((r) => ({ ...r, effective_from: SPECIFICATION_EFFECTIVE_FROM, source: 'specification' as const, source_ref: 'DESIGN.md price table (January 2025)' })),
    ...FALLBACK_PRICES.map((r) => ({ ...r, effective_from: SPECIFICATION_EFFECTIVE_FROM, source: 'default' as const, source_ref: 'src/pricing/domain/default-catalog.ts' })),
    ...genaiRows.map((r) => ({ ...r, effective_from: r.effective_from ?? SPECIFICATION_EFFECTIVE_FROM })),
  ];
  return rows.map((r) => {
    const id = idFor(`pricing-seed:v1:${r.provider}/${r.model}@${r.effective_from}`);
    return {
      id,
      data: {
        provider: r.provider,
        model: r.model,
        components: r.source === 'genai-prices' ? r.components : normalizeComponents(r.components),
        ...(r.match !== undefined ? { match: r.match } : {}),
        effective_from: r.effective_from,
        source: r.source,
        source_ref: r.source_ref,
        version: priceVersion(r.provider, r.model, r.effective_from, id),
      },
    };
  });
}

/** The paid-work prices (default-catalog.ts PAID_WORK_PRICES), each dated and sourced, for their own seed stream. */
export function paidWorkCatalogEvents(idFor: IdFor): NewPriceSet[] {
  return PAID_WORK_PRICES.map((r) => {
    const id = idFor(`pricing-seed:paid-work:v1:${r.provider}/${r.model}@${r.effective_from}`);
    return {
      id,
      data: {
        provider: r.provider,
        model: r.model,
        components: normalizeComponents(r.components),
        effective_from: r.effective_from,
        source: 'default',
        source_ref: r.source_ref,
        version: priceVersion(r.provider, r.model, r.effective_from, id),
      },
    };
  });
}

/**
 * What an import adds: for each candidate, a new `PriceSet` when it differs from what that source gave before
 * (genai-prices: the last price imported from the same package entry) or from the price in effect (other sources);
 * nothing when it is the same. A changed price takes effect at `now` (or the source's later date), unless the operator
 * states `effectiveFrom`: imports do not re-price history on their own.
 */
export function planImport(catalog: PriceCatalog, candidates: PriceCandidate[], now: Date, idFor: IdFor, effectiveFrom?: Date): { events: NewPriceSet[]; report: ImportReport } {
  const report: ImportReport = { imported: [], skipped: [] };
  const events: NewPriceSet[] = [];
  const lastBySourceRef = new Map<string, PriceSetData & { position: bigint }>();
  for (const e of catalog.allEntries()) {
    if (!e.source_ref) continue;
    const prev = lastBySourceRef.get(e.source_ref);
    if (!prev || prev.position < e.position) lastBySourceRef.set(e.source_ref, e);
  }
  const planned = new Map<string, number>();
  for (const c of candidates) {
    const key = `${c.provider}/${c.model}`;
    if (c.model === FALLBACK_MODEL) {
      report.skipped.push({ provider: c.provider, model: c.model, reason: 'the fallback price is changed by the operator only' });
      continue;
    }
    // An operator-stated time is taken as stated; otherwise never before now (a source's own later date is kept).
    const start = effectiveFrom ?? new Date(Math.max(now.getTime(), c.effective_from ? Date.parse(c.effective_from) : 0));
    let previous: PriceSetData | null;
    if (c.source === 'genai-prices') previous = lastBySourceRef.get(c.source_ref) ?? null;
    else previous = catalog.priceAt(c.provider, c.model, start);
    if (previous && sameComponents(previous.components, c.components) && (c.match === undefined || sameMatch(previous.match, c.match))) {
      report.skipped.push({ provider: c.provider, model: c.model, reason: 'unchanged' });
      continue;
    }
    const effective_from = start.toISOString();
    const id = idFor(`pricing-import:${c.source}:${key}@${effective_from}:${JSON.stringify(c.components)}:${JSON.stringify(c.match ?? null)}`);
    const data: PriceSetData = {
      provider: c.provider,
      model: c.model,
      components: c.components,
      ...(c.match !== undefined ? { match: c.match } : {}),
      effective_from,
      source: c.source,
      source_ref: c.source_ref,
      version: priceVersion(c.provider, c.model, effective_from, id),
      ...(c.max_output_tokens ? { max_output_tokens: c.max_output_tokens } : {}),
    };
    const item = { provider: c.provider, model: c.model, effective_from, price_version: data.version, reason: catalog.history(c.provider, c.model).length ? ('changed' as const) : ('new' as const) };
    // Two changed prices of one key that both take effect now (dated prices already past): the later one in the source wins.
    const slot = `${key}@${effective_from}`;
    const earlier = planned.get(slot);
    if (earlier !== undefined) {
      report.skipped.push({ provider: c.provider, model: c.model, reason: `superseded by a later price of the same key (${c.source_ref})` });
      events[earlier] = { id, data };
      report.imported[earlier] = item;
      continue;
    }
    planned.set(slot, events.length);
    events.push({ id, data });
    report.imported.push(item);
  }
  return { events, report };
}
