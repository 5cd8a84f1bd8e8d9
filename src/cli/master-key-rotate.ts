/**
 * `npm run master-key:rotate [-- --new <64 hex>]`: re-encrypts the stored provider keys and webhook secrets under a
 * new master key. Run it with Tollgate stopped (a running instance keeps the old key in memory).
 *
 * - The key in use comes from where `npm start` takes it (TOLLGATE_MASTER_KEY, else DATA_DIR/master.key).
 * - With DATA_DIR/master.key and no --new, a key is generated; it is written to master.key.new first, and renamed over
 *   master.key once everything is re-sealed, so a run that stops half-way is finished by running it again.
 * - With TOLLGATE_MASTER_KEY, --new is required (you set it in TOLLGATE_MASTER_KEY afterwards); the key is never printed.
 */
import * as fs from 'fs';
import { randomBytes } from 'crypto';
import { loadConfig, parseMasterKey } from '../config/config';
import { createEventStore } from '../../libs/event-store/create-event-store';
import { createReadStore } from '../../libs/read-store/create-read-store';
import { EventStore } from '../../libs/event-store/port';
import { ReadStore } from '../../libs/read-store/port';
import { handleCommand, loadState } from '../../libs/event-store/command-handling';
import { rotateProviderKeys, RotationError } from '../identity/infrastructure/master-key-rotation';
import { webhookDecider, webhookStreamId } from '../alerts/domain/webhook';
import { seal, unseal } from '../alerts/infrastructure/secret-box';

export interface RotationReport {
  providerKeys: { rotated: number; already: number };
  webhookSecrets: { rotated: number; already: number };
  /** Where the new key now is: the file, or "TOLLGATE_MASTER_KEY" (the operator sets it). */
  newKeyAt: string;
}

const usage = 'usage: npm run master-key:rotate [-- --new <64 hex characters>]   (run with Tollgate stopped)';

/** The rotation itself, on the stores and key file the environment names (tests call it with their own env). */
export async function rotateMasterKey(env: NodeJS.ProcessEnv, argv: string[]): Promise<RotationReport> {
  const config = loadConfig(env);
  const current = config.masterKey;
  if (!current) throw new RotationError(`no master key is in use (TOLLGATE_MASTER_KEY is not set and ${config.masterKeyFile} does not exist): nothing to rotate`);
  const pending = `${config.masterKeyFile}.new`;
  const i = argv.indexOf('--new');
  let next: Buffer | null;
  if (i >= 0) {
    next = parseMasterKey(argv[i + 1] ?? '');
    if (!next) throw new RotationError('--new must be 32 bytes as 64 hex characters (openssl rand -hex 32)');
  } else if (config.masterKeySource === 'env') {
    throw new RotationError('TOLLGATE_MASTER_KEY is set: pass the new key with --new <64 hex> (then set TOLLGATE_MASTER_KEY to it)');
  } else {
    next = fs.existsSync(pending) ? parseMasterKey(fs.readFileSync(pending, 'utf8').trim()) : null;
    if (!next) {
      next = randomBytes(32);
      fs.writeFileSync(pending, `${next.toString('hex')}\n`, { mode: 0o600 });
    }
  }
  if (next.equals(current)) throw new RotationError('the new key is the one in use');

  let reads: ReadStore | null = null;
  let events: EventStore | null = null;
  try {
    reads = await createReadStore({ mongodbUrl: config.mongodbUrl, dataDir: config.dataDir });
    events = await createEventStore({ eventStoreUrl: config.eventStoreUrl, dataDir: config.dataDir, sqliteSync: config.sqliteSync, sqliteWriter: 'inline' });
    const providerKeys = await rotateProviderKeys(reads, current, next);
    const webhookSecrets = await resealWebhookSecrets(events, reads, current, next);
    let newKeyAt = 'TOLLGATE_MASTER_KEY';
    if (config.masterKeySource === 'file') {
      if (!fs.existsSync(pending)) fs.writeFileSync(pending, `${next.toString('hex')}\n`, { mode: 0o600 });
      fs.renameSync(pending, config.masterKeyFile);
      newKeyAt = config.masterKeyFile;
    }
    return { providerKeys, webhookSecrets, newKeyAt };
  } finally {
    await events?.close();
    await reads?.close();
  }
}

/**
 * A webhook's signing secret is sealed inside its WebhookConfigured event, which is never edited: the rotation appends
 * a new WebhookConfigured with the same URL, configuration time and secret, sealed under the new key.
 */
async function resealWebhookSecrets(events: EventStore, reads: ReadStore, current: Buffer, next: Buffer): Promise<{ rotated: number; already: number }> {
  const tenants: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await reads.collection<{ _id: string }>('webhook_endpoints').find({}, { limit: 500, cursor });
    tenants.push(...page.items.map((d) => d._id));
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  let rotated = 0;
  let already = 0;
  const plans: Array<{ tenant: string; url: string; at: string; plain: string }> = [];
  for (const tenant of tenants) {
    const { state } = await loadState(events, webhookStreamId(tenant), webhookDecider);
    if (!state.secret_sealed || !state.url) continue;
    const plain = tryUnseal(current, state.secret_sealed);
    if (plain !== null) plans.push({ tenant, url: state.url, at: state.configured_at!, plain });
    else if (tryUnseal(next, state.secret_sealed) !== null) already++;
    else throw new RotationError(`the master key in use does not decrypt the webhook secret of tenant ${tenant}`);
  }
  for (const p of plans) {
    await handleCommand(events, webhookStreamId(p.tenant), webhookDecider, { type: 'ConfigureWebhook', data: { tenant_id: p.tenant, url: p.url, secret_sealed: seal(next, p.plain), configured_at: p.at } }, { now: new Date() });
    rotated++;
  }
  return { rotated, already };
}

function tryUnseal(key: Buffer, sealed: string): string | null {
  try {
    return unseal(key, sealed);
  } catch {
    return null;
  }
}

if (require.main === module) {
  const argv = process.argv.slice(2);
  if (argv.includes('-h') || argv.includes('--help')) {
    console.log(usage);
    process.exit(0);
  }
  rotateMasterKey(process.env, argv).then(
    (r) => {
      console.log(`Re-encrypted ${r.providerKeys.rotated} provider key(s) (${r.providerKeys.already} already under the new key) and ${r.webhookSecrets.rotated} webhook secret(s) (${r.webhookSecrets.already} already).`);
      console.log(
        r.newKeyAt === 'TOLLGATE_MASTER_KEY'
          ? 'Now set TOLLGATE_MASTER_KEY to the new key and start Tollgate; the old key no longer decrypts anything.'
          : `The new key is in ${r.newKeyAt}: back it up with the data (the old key no longer decrypts anything), then start Tollgate.`,
      );
      process.exit(0);
    },
    (err) => {
      const e = err as Error;
      process.stderr.write(`master-key rotation failed: ${['RotationError', 'ConfigError', 'StoreOpenError'].includes(e.name) ? e.message : e.stack}\n${usage}\n`);
      process.exit(1);
    },
  );
}
