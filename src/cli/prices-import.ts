/**
 * `npm run prices:import -- <litellm-file.json> [--effective-from <ISO time>]`
 * `npm run prices:import -- --from genai-prices`
 *
 * Adds to the price catalog, as new PriceSet events, only what differs from what is there; prints what was imported
 * and what was skipped, and why. Running it twice with the same data changes nothing. It talks to the event store of
 * DATA_DIR (or EVENTSTORE_URL) directly, so it works with Tollgate stopped or running (running instances pick the new
 * prices up from the log). On a fresh data directory it first writes the default catalog, as a first start would.
 */
import * as fs from 'fs';
import { loadConfig } from '../config/config';
import { createEventStore } from '../../libs/event-store/create-event-store';
import { ImportResult, importGenaiPrices, importLitellm, seedDefaultCatalog } from '../pricing';

const USAGE = 'usage: npm run prices:import -- <model_prices_and_context_window.json> [--effective-from <ISO time>] | --from genai-prices';

async function main(argv: string[]): Promise<number> {
  const args = [...argv];
  let from: string | null = null;
  let effectiveFrom: Date | undefined;
  let file: string | null = null;
  let json = false;
  while (args.length) {
    const a = args.shift()!;
    if (a === '--from') from = args.shift() ?? null;
    else if (a.startsWith('--from=')) from = a.slice('--from='.length);
    else if (a === '--effective-from') effectiveFrom = parseTime(args.shift());
    else if (a.startsWith('--effective-from=')) effectiveFrom = parseTime(a.slice('--effective-from='.length));
    else if (a === '--json') json = true;
    else if (a === '-h' || a === '--help') {
      console.log(USAGE);
      return 0;
    } else if (!file && !a.startsWith('--')) file = a;
    else {
      console.error(`Unknown argument: ${a}\n${USAGE}`);
      return 2;
    }
  }
  if ((from && from !== 'genai-prices') || (!from && !file) || (from && file)) {
    console.error(USAGE);
    return 2;
  }
  let body: unknown;
  if (file) {
    try {
      body = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (err) {
      console.error(`Cannot read ${file}: ${(err as Error).message}`);
      return 1;
    }
  }
  const config = loadConfig(process.env);
  const store = await createEventStore({ eventStoreUrl: config.eventStoreUrl, dataDir: config.dataDir, sqliteSync: config.sqliteSync });
  try {
    const now = new Date();
    await seedDefaultCatalog(store, now);
    const result = from ? await importGenaiPrices(store, now) : await importLitellm(store, body, now, effectiveFrom);
    if (json) console.log(JSON.stringify(result, null, 2));
    else printReport(result);
    return 0;
  } finally {
    await store.close();
  }
}

function parseTime(v: string | undefined): Date {
  const d = new Date(v ?? '');
  if (!v || Number.isNaN(d.getTime())) throw new Error(`--effective-from needs an ISO time, got "${v ?? ''}"`);
  return d;
}

function printReport(r: ImportResult): void {
  console.log(`Source: ${r.source}`);
  console.log(`Imported: ${r.imported.length}`);
  for (const i of r.imported) console.log(`  + ${i.provider}/${i.model} (${i.reason}) from ${i.effective_from}  [${i.price_version}]`);
  const reasons = new Map<string, number>();
  for (const s of r.skipped) reasons.set(s.reason, (reasons.get(s.reason) ?? 0) + 1);
  console.log(`Skipped: ${r.skipped.length}`);
  for (const [reason, n] of [...reasons].sort((a, b) => b[1] - a[1])) console.log(`  - ${n} x ${reason}`);
  for (const s of r.skipped.filter((x) => x.reason !== 'unchanged').slice(0, 50)) console.log(`    ${s.entry ?? `${s.provider}/${s.model}`}: ${s.reason}`);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(`prices:import failed: ${(err as Error).message}`);
    process.exit(1);
  },
);
