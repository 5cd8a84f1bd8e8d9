import { sha256Uuid } from '../../../libs/ids/name-based-uuid';
import { ANY, EventStore, NO_STREAM, NewEvent, StoredEvent, WrongExpectedVersionError } from '../../../libs/event-store/port';
import { PriceCatalog } from '../domain/price-catalog';
import { PAID_WORK_SEED_STREAM, PRICE_SEED_STREAM, PRICING_EVENT_TYPES, PriceSetData, priceStreamId } from '../domain/price';
import { NewPriceSet, PriceCandidate, defaultCatalogEvents, paidWorkCatalogEvents } from '../domain/import-plan';
import { genaiPriceRows, genaiPricesVersion } from '../infrastructure/genai-prices.source';

/** A UUID-shaped id derived from a name: the same name always gives the same id (stored seed ids depend on it). */
export const uuidFrom = sha256Uuid;

/** The genai-prices rows as import candidates. */
export function genaiCandidates(rows = genaiPriceRows()): PriceCandidate[] {
  return rows.map((r) => ({ ...r, source: 'genai-prices' as const }));
}

/**
 * Writes the default catalog once: one append of every seed event to the seed stream with expected revision
 * `no_stream` and deterministic ids. A second start, or a second instance racing the first, writes nothing; an
 * operator's later change lives on its own stream and is never overwritten. Returns true when this call wrote it.
 */
export async function seedDefaultCatalog(store: EventStore, now: Date): Promise<boolean> {
  const version = genaiPricesVersion();
  const wrote = await seedOnce(store, PRICE_SEED_STREAM, () => defaultCatalogEvents(genaiCandidates(), uuidFrom).map((e) => toNewEvent(e, now, { genai_prices_version: version })));
  // A catalog seeded before the paid-work prices existed gets them now, once.
  const paid = await seedOnce(store, PAID_WORK_SEED_STREAM, () => paidWorkCatalogEvents(uuidFrom).map((e) => toNewEvent(e, now, {})));
  return wrote || paid;
}

async function seedOnce(store: EventStore, stream: string, events: () => NewEvent[]): Promise<boolean> {
  const existing = await store.readStream(stream, { maxCount: 1 });
  if (existing.length) return false;
  try {
    const r = await store.append(stream, events(), NO_STREAM);
    return !r.duplicate;
  } catch (err) {
    if (err instanceof WrongExpectedVersionError) return false;
    throw err;
  }
}

/** Appends imported prices, each to its key's stream (ids are deterministic, so a repeated import stores nothing). */
export async function appendPriceSets(store: EventStore, events: NewPriceSet[], now: Date, metadata: Record<string, unknown> = {}): Promise<void> {
  for (const e of events) await store.append(priceStreamId(e.data.provider, e.data.model), [toNewEvent(e, now, metadata)], ANY);
}

/** Folds every PriceSet of the log into a catalog; returns it with the position read up to. */
export async function loadCatalog(store: EventStore, catalog = new PriceCatalog()): Promise<{ catalog: PriceCatalog; position: bigint }> {
  let after = -1n;
  for (;;) {
    const page = await store.readAll({ after, maxCount: 5000, types: PRICING_EVENT_TYPES });
    for (const e of page) applyStored(catalog, e);
    if (page.length) after = page[page.length - 1].position;
    if (page.length < 5000) break;
  }
  return { catalog, position: after };
}

export function applyStored(catalog: PriceCatalog, e: StoredEvent): void {
  if (e.type === 'PriceSet') catalog.apply({ id: e.id, position: e.position, data: e.data as PriceSetData });
}

function toNewEvent(e: NewPriceSet, now: Date, extra: Record<string, unknown>): NewEvent {
  return { id: e.id, type: 'PriceSet', data: e.data, metadata: { occurredAt: now.toISOString(), ...extra } };
}
