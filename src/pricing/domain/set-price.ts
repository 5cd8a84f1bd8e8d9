import { PricingException } from '../../../libs/errors';
import { Decider } from '../../../libs/event-store/command-handling';
import { MatchRule, PriceComponents, PriceSetData, PriceSource, PricingEvent, decimalOf, isTiered, sameComponents, sameMatch } from './price';

/** Sets the price of one catalog key from a moment on (an operator's change, or one row of an import). */
export interface SetPrice {
  type: 'SetPrice';
  data: {
    provider: string;
    model: string;
    /** Amounts as decimals (numbers are read by their shortest string form) or tiered `{base, tiers}`. */
    components: Record<string, unknown>;
    match?: MatchRule | null;
    effective_from: string;
    source: PriceSource;
    source_ref: string | null;
    /** The event id chosen by the caller; the price version names it. */
    event_id: string;
    max_output_tokens?: number;
  };
}

/** The prices set on one key's stream, oldest first. */
export interface KeyPriceState {
  prices: PriceSetData[];
}

export const initialKeyPriceState = (): KeyPriceState => ({ prices: [] });

export function evolveKeyPrice(state: KeyPriceState, event: PricingEvent): KeyPriceState {
  switch (event.type) {
    case 'PriceSet':
      return { prices: [...state.prices, event.data] };
    default: {
      const unexpected: never = event.type;
      return unexpected;
    }
  }
}

/**
 * A price needs at least one component, every amount a non-negative decimal, tier starts whole token counts, and a
 * valid effective time. Setting the very price already set for the same moment changes nothing.
 */
export function decideSetPrice(command: SetPrice, state: KeyPriceState): PricingEvent[] {
  const c = command.data;
  const components = normalizeComponents(c.components);
  const at = Date.parse(c.effective_from);
  if (Number.isNaN(at)) throw new PricingException(`effective_from is not a time: ${c.effective_from}`, { effective_from: c.effective_from });
  const effective_from = new Date(at).toISOString();
  const last = state.prices[state.prices.length - 1];
  if (last && last.effective_from === effective_from && sameComponents(last.components, components) && (c.match === undefined || sameMatch(last.match, c.match)) && (c.max_output_tokens === undefined || c.max_output_tokens === last.max_output_tokens)) return [];
  const data: PriceSetData = {
    provider: c.provider,
    model: c.model,
    components,
    ...(c.match !== undefined ? { match: c.match } : {}),
    effective_from,
    source: c.source,
    source_ref: c.source_ref,
    version: priceVersion(c.provider, c.model, effective_from, c.event_id),
    ...(c.max_output_tokens ? { max_output_tokens: c.max_output_tokens } : {}),
  };
  return [{ type: 'PriceSet', data }];
}

export const setPriceDecider: Decider<KeyPriceState, SetPrice, PricingEvent> = {
  initialState: initialKeyPriceState,
  evolve: evolveKeyPrice,
  decide: decideSetPrice,
};

/** `openai/gpt-4o@2025-02-01T00:00:00.000Z#1a2b3c4d`: the key, when it took effect, and the event that set it. */
export function priceVersion(provider: string, model: string, effectiveFrom: string, eventId: string): string {
  return `${provider}/${model}@${effectiveFrom}#${eventId.replace(/-/g, '').slice(0, 8)}`;
}

/** Validates and canonicalises components (exact decimal strings, tiers sorted by start). */
export function normalizeComponents(input: Record<string, unknown>): PriceComponents {
  if (!input || typeof input !== 'object' || Object.keys(input).length === 0) throw new PricingException('A price needs at least one component (input_mtok, output_mtok, unit, ...).');
  const out: PriceComponents = {};
  for (const [key, value] of Object.entries(input)) {
    if (!/^[a-z][a-z0-9_]*$/.test(key)) throw new PricingException(`Unknown price component: ${key}`, { component: key });
    if (value === undefined || value === null) continue;
    out[key] = normalizeValue(key, value);
  }
  if (Object.keys(out).length === 0) throw new PricingException('A price needs at least one component (input_mtok, output_mtok, unit, ...).');
  return out;
}

function normalizeValue(key: string, value: unknown): PriceComponents[string] {
  const bad = () => new PricingException(`${key} must be a non-negative decimal or {base, tiers: [{start, price}]}`, { component: key });
  const amount = (v: unknown) => {
    if (typeof v !== 'number' && typeof v !== 'string') throw bad();
    try {
      return decimalOf(v);
    } catch {
      throw bad();
    }
  };
  if (typeof value === 'number' || typeof value === 'string') return amount(value);
  const v = value as { base?: unknown; tiers?: unknown };
  if (typeof v !== 'object' || v === null || !Array.isArray(v.tiers)) throw bad();
  const tiers = (v.tiers as { start?: unknown; price?: unknown }[]).map((t) => {
    if (!t || typeof t.start !== 'number' || !Number.isSafeInteger(t.start) || t.start < 0) throw bad();
    return { start: t.start, price: amount(t.price) };
  });
  const tiered = { base: amount(v.base), tiers: tiers.sort((a, b) => a.start - b.start) };
  return isTiered(tiered) && tiered.tiers.length === 0 ? tiered.base : tiered;
}
