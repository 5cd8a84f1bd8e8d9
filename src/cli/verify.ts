/**
 * `npm run verify`: a checklist a newcomer can read. Checks the configuration, that the event store and the read store
 * answer, that every projection catches up with the log, and that the default plans and prices are there. Exits 1
 * when an item fails. It uses the same environment as `npm start` (DATA_DIR, EVENTSTORE_URL, MONGODB_URL...).
 */
import 'reflect-metadata';
import { INestApplicationContext } from '@nestjs/common';
// First: the application module, so the modules load in the order the server loads them (their imports form cycles).
import { explain, openCliContext } from './replay';
import { AppConfig, loadConfig } from '../config/config';
import { EVENT_STORE, EventStore } from '../../libs/event-store/port';
import { READ_STORE, ReadStore } from '../../libs/read-store/port';
import { DEFAULT_PLANS, PlansFacade } from '../plans';
import { PricingFacade } from '../pricing';

type Outcome = { ok: boolean; detail: string };

const results: Array<{ item: string; skipped?: boolean } & Outcome> = [];
const color = process.stdout.isTTY && !process.env.NO_COLOR;
const mark = (ok: boolean | null) => (ok === null ? (color ? '\x1b[33m-\x1b[0m' : '-') : ok ? (color ? '\x1b[32m✓\x1b[0m' : '✓') : color ? '\x1b[31m✗\x1b[0m' : '✗');

async function check(item: string, run: () => Promise<string>): Promise<boolean> {
  let outcome: Outcome;
  try {
    outcome = { ok: true, detail: await run() };
  } catch (err) {
    outcome = { ok: false, detail: explain(err).split('\n')[0] };
  }
  results.push({ item, ...outcome });
  console.log(`${mark(outcome.ok)} ${item.padEnd(26)} ${outcome.detail}`);
  return outcome.ok;
}

function skip(item: string, why: string): void {
  results.push({ item, ok: false, skipped: true, detail: why });
  console.log(`${mark(null)} ${item.padEnd(26)} not checked: ${why}`);
}

async function main(): Promise<number> {
  console.log('Tollgate verification\n');
  const configOk = await check('configuration valid', async () => {
    const c = loadConfig();
    const stores = `event store ${c.eventStoreUrl ? 'EventStoreDB' : 'SQLite'}, read store ${c.mongodbUrl ? 'MongoDB' : 'SQLite'}${!c.eventStoreUrl || !c.mongodbUrl ? ` in ${c.dataDir}` : ''}`;
    const warnings = [
      !c.adminKey && 'TOLLGATE_ADMIN_KEY not set (the admin API refuses every call)',
      !c.masterKey && c.mongodbUrl && 'no master key (MONGODB_URL is set, so none is created: set TOLLGATE_MASTER_KEY, or tenants cannot store provider keys)',
    ].filter(Boolean);
    return `listens on ${c.host}:${c.port}, ${stores}, ${masterKeyLine(c)}${warnings.length ? `; note: ${warnings.join('; ')}` : ''}`;
  });
  const rest = ['event store reachable', 'read store reachable', 'projections caught up', 'default plans present', 'default prices present'];
  if (!configOk) {
    rest.forEach((r) => skip(r, 'the configuration is invalid'));
    return summary();
  }

  let app: INestApplicationContext | null = null;
  let runner: Awaited<ReturnType<typeof openCliContext>>['runner'] | null = null;
  const booted = await check('application boots', async () => {
    // Projections follow the log here: "caught up" means they can apply every stored event without an error.
    ({ app, runner } = await openCliContext({ followLog: true }));
    return 'modules loaded, stores opened';
  });
  if (!booted || !app || !runner) {
    rest.forEach((r) => skip(r, 'the application did not boot'));
    return summary();
  }
  const ctx = app as INestApplicationContext;
  try {
    await check('event store reachable', async () => {
      const es = ctx.get<EventStore>(EVENT_STORE);
      await es.ping();
      const head = await es.headPosition();
      return head < 0n ? 'answers; the log is empty' : `answers; last position ${head}`;
    });
    await check('read store reachable', async () => {
      await ctx.get<ReadStore>(READ_STORE).ping();
      return 'answers';
    });
    await check('projections caught up', async () => {
      const r = runner!.get();
      await r.caughtUp(60_000);
      const status = await r.status();
      const behind = status.filter((s) => s.lag > 0 || s.error);
      if (behind.length) throw new Error(behind.map((s) => `${s.name}: ${s.error ?? `${s.lag} events behind`}`).join('; '));
      return `${status.length} projections at the head of the log`;
    });
    await check('default plans present', async () => {
      const plans = ctx.get(PlansFacade, { strict: false }).listPlans();
      const ids = new Set(plans.map((p) => p.plan_id));
      const missing = DEFAULT_PLANS.filter((p) => !ids.has(p.plan_id)).map((p) => p.plan_id);
      if (missing.length) throw new Error(`missing: ${missing.join(', ')}`);
      return plans.map((p) => p.name).join(', ');
    });
    await check('default prices present', async () => {
      const pricing = ctx.get(PricingFacade, { strict: false });
      const probes: Array<[string, string]> = [
        ['openai', 'gpt-4'],
        ['gemini', 'gemini-2.5-pro'],
        ['anthropic', 'claude-3'],
      ];
      const at = new Date('2025-01-15T00:00:00Z');
      for (const [provider, model] of probes) {
        const q = pricing.quote(provider, model, { input_tokens: 1_000_000, output_tokens: 0 } as Parameters<PricingFacade['quote']>[2], at);
        if (q.price_source !== 'catalog') throw new Error(`${provider} ${model} has no catalog price`);
      }
      const rows = await ctx.get<ReadStore>(READ_STORE).collection('api_provider_pricing').count();
      return `catalog prices for ${probes.map((p) => p[1]).join(', ')}; ${rows} rows in api_provider_pricing`;
    });
  } finally {
    await ctx.close();
  }
  return summary();
}

/** Which master key is in use, never the key itself. */
export function masterKeyLine(c: AppConfig): string {
  if (c.masterKeySource === 'env') return 'master key from TOLLGATE_MASTER_KEY';
  if (c.masterKeySource === 'file') return `master key from ${c.masterKeyFile} (back it up with the data)`;
  return c.mongodbUrl ? 'no master key' : `no master key yet (the first npm start creates ${c.masterKeyFile})`;
}

function summary(): number {
  const failed = results.filter((r) => !r.ok && !r.skipped);
  const skipped = results.filter((r) => r.skipped);
  const passed = results.length - failed.length - skipped.length;
  console.log(
    `\n${passed} of ${results.length} checks passed` +
      (failed.length ? `; failed: ${failed.map((f) => f.item).join(', ')}` : '') +
      (skipped.length ? `; ${skipped.length} not checked` : ''),
  );
  return failed.length || skipped.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`verify failed: ${explain(err)}\n`);
    process.exit(1);
  },
);
