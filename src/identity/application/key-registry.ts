import { Inject, Injectable } from '@nestjs/common';
import { CLOCK, Clock } from '../../../libs/clock';
import { READ_STORE, ReadStore } from '../../../libs/read-store/port';
import { APP_CONFIG, AppConfig, LazyProjectionRunner, PROJECTION_RUNNER, rootLogger } from '../../shell';
import { Principal } from '../access';
import { hashKey, sameHash } from '../infrastructure/key-material';
import { API_KEYS, ApiKeyDoc, ApiKeysProjection } from '../projections/api-keys.projection';

/** How long a cached key is trusted before the read model is asked again (bounds a revocation made on another instance). */
const RECHECK_MS = 10_000;
const MAX_CACHED = 100_000;
/** `last_used_at` is written at most this often per key. */
const LAST_USED_WRITE_MS = 60_000;
export const API_KEY_ACTIVITY = 'api_key_activity';

interface Entry {
  principal: Principal | null;
  checkedAt: number;
}

const ADMIN: Principal = Object.freeze({ role: 'admin', tenantId: null, userId: null, keyId: 'admin' }) as Principal;

/**
 * Resolves a presented key to its principal. The guard calls it on every request, so it answers from memory: keys are
 * cached by hash; a key issued or revoked on this instance is known at once; a cached key is re-read from the
 * `api_keys` read model every ten seconds, which bounds how long a revocation made on another instance takes.
 */
@Injectable()
export class KeyRegistry {
  private readonly cache = new Map<string, Entry>();
  private readonly adminHash: string | null;
  private readonly lastWritten = new Map<string, number>();
  private readonly log = rootLogger().child({ component: 'key-registry' });

  constructor(
    @Inject(READ_STORE) private readonly reads: ReadStore,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(APP_CONFIG) config: AppConfig,
    projection: ApiKeysProjection,
    @Inject(PROJECTION_RUNNER) private readonly projections: LazyProjectionRunner,
  ) {
    this.adminHash = config.adminKey ? hashKey(config.adminKey) : null;
    projection.onRevoked = (hashes) => hashes.forEach((h) => this.cache.set(h, { principal: null, checkedAt: Date.now() }));
  }

  async authenticate(rawKey: string): Promise<Principal | null> {
    if (typeof rawKey !== 'string' || rawKey.length < 8 || rawKey.length > 256) return null;
    const hash = hashKey(rawKey);
    if (this.adminHash && sameHash(hash, this.adminHash)) return ADMIN;
    if (!rawKey.startsWith('tg_')) return null;
    let entry = this.cache.get(hash);
    // A revocation is final: a revoked key is never looked up again (a lagging read model cannot bring it back).
    if (entry && !entry.principal) return null;
    if (!entry || Date.now() - entry.checkedAt > RECHECK_MS) {
      const page = await this.reads.collection<ApiKeyDoc>(API_KEYS).find({ key_hash: hash }, { limit: 1 });
      const doc = page.items[0];
      if (!doc) {
        // Issued here moments ago and not yet in the read model: keep it. Unknown keys are not cached (the
        // failed-auth limiter bounds how often they are looked up).
        if (entry) return entry.principal;
        return null;
      }
      entry = { principal: doc.revoked_at ? null : toPrincipal(doc), checkedAt: Date.now() };
      this.put(hash, entry);
    }
    if (entry.principal) this.touch(entry.principal.keyId);
    return entry.principal;
  }

  /** A key issued on this instance works at once, before the read model has it. */
  remember(doc: Pick<ApiKeyDoc, 'key_id' | 'role' | 'tenant_id' | 'user_id' | 'key_hash'>): void {
    this.put(doc.key_hash, { principal: toPrincipal(doc), checkedAt: Date.now() });
  }

  /** A key revoked on this instance fails at once. */
  forget(keyHash: string): void {
    this.put(keyHash, { principal: null, checkedAt: Date.now() });
  }

  private put(hash: string, entry: Entry): void {
    if (this.cache.size >= MAX_CACHED && !this.cache.has(hash)) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(hash, entry);
  }

  private touch(keyId: string): void {
    const now = Date.now();
    const last = this.lastWritten.get(keyId) ?? 0;
    if (now - last < LAST_USED_WRITE_MS) return;
    this.lastWritten.set(keyId, now);
    const at = this.clock.now().toISOString();
    this.projections
      .upsertOffThread(API_KEY_ACTIVITY, keyId, { set: { key_id: keyId }, max: { last_used_at: at } })
      .catch((err: Error) => this.log.warn({ err: err.message }, 'could not record key use'));
  }

  /** Forces the next use of a key to record its last use (tests move the clock). */
  resetActivityThrottle(): void {
    this.lastWritten.clear();
  }
}

function toPrincipal(doc: Pick<ApiKeyDoc, 'key_id' | 'role' | 'tenant_id' | 'user_id'>): Principal {
  return Object.freeze({ role: doc.role, tenantId: doc.tenant_id, userId: doc.role === 'user' ? doc.user_id : null, keyId: doc.key_id }) as Principal;
}
