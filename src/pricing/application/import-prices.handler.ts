import { Inject, Injectable } from '@nestjs/common';
import { CLOCK, Clock } from '../../../libs/clock';
import { EVENT_STORE, EventStore } from '../../../libs/event-store/port';
import { PricingException } from '../../../libs/errors';
import { ImportReport, planImport } from '../domain/import-plan';
import { parseLitellmMap } from '../infrastructure/litellm-map.parser';
import { GenaiProvider, genaiPriceRows, genaiPricesVersion, installedGenaiProviders } from '../infrastructure/genai-prices.source';
import { PriceCatalog } from '../domain/price-catalog';
import { appendPriceSets, genaiCandidates, loadCatalog, uuidFrom } from './catalog-store';

export interface ImportResult extends ImportReport {
  source: string;
}

/**
 * Imports a LiteLLM price map or genai-prices' current data into the catalog: only what differs becomes a new
 * PriceSet (effective now, or later when asked), so importing the same data twice changes nothing.
 * Plain functions over the event store, shared by the HTTP endpoint and the `prices:import` CLI.
 */
export async function importLitellm(store: EventStore, json: unknown, now: Date, effectiveFrom?: Date): Promise<ImportResult> {
  let parsed: ReturnType<typeof parseLitellmMap>;
  try {
    parsed = parseLitellmMap(json);
  } catch (err) {
    throw new PricingException((err as Error).message, {}, 400);
  }
  const { catalog } = await loadCatalog(store, new PriceCatalog());
  const { events, report } = planImport(catalog, parsed.candidates, now, uuidFrom, effectiveFrom);
  await appendPriceSets(store, events, now, { import_source: 'litellm' });
  return { source: 'litellm', imported: report.imported, skipped: [...parsed.skipped, ...report.skipped] };
}

export async function importGenaiPrices(store: EventStore, now: Date, providers: GenaiProvider[] = installedGenaiProviders()): Promise<ImportResult> {
  const { catalog } = await loadCatalog(store, new PriceCatalog());
  const { events, report } = planImport(catalog, genaiCandidates(genaiPriceRows(providers)), now, uuidFrom);
  const version = genaiPricesVersion();
  await appendPriceSets(store, events, now, { import_source: 'genai-prices', genai_prices_version: version });
  return { source: `genai-prices@${version}`, ...report };
}

@Injectable()
export class ImportPricesHandler {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  litellm(json: unknown, effectiveFrom?: Date): Promise<ImportResult> {
    return importLitellm(this.store, json, this.clock.now(), effectiveFrom);
  }

  genaiPrices(): Promise<ImportResult> {
    return importGenaiPrices(this.store, this.clock.now());
  }
}
