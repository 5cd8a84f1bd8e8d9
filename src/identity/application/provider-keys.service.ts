import { Inject, Injectable } from '@nestjs/common';
import { CLOCK, Clock } from '../../../libs/clock';
import { EVENT_STORE, EventStore } from '../../../libs/event-store/port';
import { handleCommand } from '../../../libs/event-store/command-handling';
import { READ_STORE, ReadStore } from '../../../libs/read-store/port';
import { AppError, notFound } from '../../../libs/errors';
import { APP_CONFIG, AppConfig, discardCreatedMasterKey, masterKeyCreatedHere, PROVIDER_IDS } from '../../shell';
import { tenantDecider, tenantStreamId } from '../domain/tenant';
import { lastFour } from '../infrastructure/key-material';
import { decryptProviderKey, encryptProviderKey } from '../infrastructure/provider-key-cipher';

/**
 * Where sealed provider keys live: a collection of their own, outside the event log (whose events say only that a key
 * was set, with its last four characters) and outside every projection (a rebuild never drops them).
 */
export const PROVIDER_KEYS = 'provider_keys';

export type ProviderKeyDoc = {
  _id: string;
  tenant_id: string;
  provider: string;
  sealed: string;
  last_four: string;
  updated_at: string;
};

export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StartupError';
  }
}

const RECHECK_MS = 30_000;
const ALIASES: Record<string, string> = { metaphor: 'exa' };

export function normalizeProvider(provider: string): string {
  const p = provider.toLowerCase();
  const id = ALIASES[p] ?? p;
  if (!(PROVIDER_IDS as readonly string[]).includes(id)) throw notFound('Provider', { provider, providers: [...PROVIDER_IDS] });
  return id;
}

/**
 * Tenants' own provider keys, sealed with AES-256-GCM under TOLLGATE_MASTER_KEY. Never logged. Stored sealed; the
 * gateway's cache keeps a key opened for at most RECHECK_MS after a call needed it (decrypting on every call cost 4 %
 * of the gateway's CPU), in this process's memory only, like the request that carries it upstream.
 */
@Injectable()
export class ProviderKeysService {
  private readonly cache = new Map<string, { sealed: string | null; checkedAt: number; plain?: string }>();

  constructor(
    @Inject(EVENT_STORE) private readonly events: EventStore,
    @Inject(READ_STORE) private readonly reads: ReadStore,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Refuses to start when sealed keys are stored and the master key is missing or is not the one that sealed them. */
  async verifyAtStartup(): Promise<void> {
    const page = await this.docs().find({}, { limit: 1 });
    const sample = page.items[0];
    if (!sample) return;
    const missing = `provider keys are stored but TOLLGATE_MASTER_KEY is not set and ${this.config.masterKeyFile} does not exist. Set TOLLGATE_MASTER_KEY to the master key they were encrypted with (64 hex characters), or restore master.key from your backup, and start again.`;
    if (!this.config.masterKey) throw new StartupError(missing);
    try {
      decryptProviderKey(this.config.masterKey, sample.tenant_id, sample.sealed);
    } catch {
      // A key this start just created cannot be the one they were sealed with: remove it, so it is not mistaken for it.
      if (this.config.masterKeySource === 'file' && masterKeyCreatedHere(this.config)) {
        discardCreatedMasterKey(this.config);
        throw new StartupError(missing);
      }
      const which = this.config.masterKeySource === 'file' ? `The master key in ${this.config.masterKeyFile}` : 'TOLLGATE_MASTER_KEY';
      throw new StartupError(`${which} does not decrypt the stored provider keys. Set TOLLGATE_MASTER_KEY to the master key they were encrypted with and start again.`);
    }
  }

  async set(tenantId: string, provider: string, apiKey: string): Promise<{ provider: string; last_four: string; updated_at: string }> {
    const id = normalizeProvider(provider);
    const master = this.requireMasterKey();
    const now = this.clock.now();
    const doc: ProviderKeyDoc = { _id: `${tenantId}/${id}`, tenant_id: tenantId, provider: id, sealed: encryptProviderKey(master, tenantId, apiKey), last_four: lastFour(apiKey), updated_at: now.toISOString() };
    // The tenant must exist: the event is decided (and validated) before the sealed key is written.
    await handleCommand(this.events, tenantStreamId(tenantId), tenantDecider, { type: 'RecordProviderKeySet', data: { provider: id, last_four: doc.last_four, at: now } }, { now });
    await this.docs().put(doc);
    this.cache.set(doc._id, { sealed: doc.sealed, checkedAt: Date.now() });
    return { provider: id, last_four: doc.last_four, updated_at: doc.updated_at };
  }

  async remove(tenantId: string, provider: string): Promise<boolean> {
    const id = normalizeProvider(provider);
    const existed = await this.docs().delete(`${tenantId}/${id}`);
    this.cache.set(`${tenantId}/${id}`, { sealed: null, checkedAt: Date.now() });
    const now = this.clock.now();
    await handleCommand(this.events, tenantStreamId(tenantId), tenantDecider, { type: 'RecordProviderKeyRemoved', data: { provider: id, at: now } }, { now });
    return existed;
  }

  async list(tenantId: string): Promise<Array<{ provider: string; last_four: string; updated_at: string }>> {
    const page = await this.docs().find({ tenant_id: tenantId }, { limit: 100, sort: { field: 'provider', direction: 'asc' } });
    return page.items.map((d) => ({ provider: d.provider, last_four: d.last_four, updated_at: d.updated_at }));
  }

  /** The decrypted key, or null when the tenant stored none for the provider. */
  async get(tenantId: string, provider: string): Promise<string | null> {
    let id: string;
    try {
      id = normalizeProvider(provider);
    } catch {
      return null;
    }
    const cacheKey = `${tenantId}/${id}`;
    let hit = this.cache.get(cacheKey);
    if (!hit || Date.now() - hit.checkedAt > RECHECK_MS) {
      const doc = await this.docs().get(cacheKey);
      hit = { sealed: doc?.sealed ?? null, checkedAt: Date.now() };
      this.cache.set(cacheKey, hit);
    }
    if (!hit.sealed) return null;
    return (hit.plain ??= decryptProviderKey(this.requireMasterKey(), tenantId, hit.sealed));
  }

  private requireMasterKey(): Buffer {
    if (!this.config.masterKey)
      throw new AppError(409, 'master_key_missing', 'Provider keys cannot be stored or used: this Tollgate has no master key (TOLLGATE_MASTER_KEY is not set and no DATA_DIR/master.key was created, because MONGODB_URL is set).');
    return this.config.masterKey;
  }

  private docs() {
    return this.reads.collection<ProviderKeyDoc>(PROVIDER_KEYS);
  }
}
