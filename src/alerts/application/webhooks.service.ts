import { randomBytes } from 'crypto';
import { Inject, Injectable } from '@nestjs/common';
import { CLOCK, Clock } from '../../../libs/clock';
import { AppError, notFound } from '../../../libs/errors';
import { handleCommand, loadState } from '../../../libs/event-store/command-handling';
import { EVENT_STORE, EventStore } from '../../../libs/event-store/port';
import { APP_CONFIG, AppConfig } from '../../shell';
import { webhookDecider, WebhookEvent, webhookStreamId } from '../domain/webhook';
import { seal, unseal } from '../infrastructure/secret-box';

export interface WebhookView {
  url: string;
  configured_at: string;
}

/** A tenant's webhook endpoint: configure, show, remove; the delivery worker asks it for the signing secret. */
@Injectable()
export class WebhooksService {
  constructor(
    @Inject(EVENT_STORE) private readonly events: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  private masterKey(): Buffer {
    if (!this.config.masterKey)
      throw new AppError(409, 'master_key_missing', 'TOLLGATE_MASTER_KEY must be set to store a webhook secret (generate one with: openssl rand -hex 32).');
    return this.config.masterKey;
  }

  /** Sets the endpoint. Without a secret one is generated and returned (the only time it is shown). */
  async configure(tenantId: string, url: string, secret?: string): Promise<WebhookView & { secret?: string }> {
    const key = this.masterKey();
    const generated = secret ? undefined : 'whsec_' + randomBytes(24).toString('base64url');
    const now = this.clock.now();
    await handleCommand<ReturnType<typeof webhookDecider.initialState>, Parameters<typeof webhookDecider.decide>[0], WebhookEvent>(
      this.events,
      webhookStreamId(tenantId),
      webhookDecider,
      { type: 'ConfigureWebhook', data: { tenant_id: tenantId, url, secret_sealed: seal(key, secret ?? generated!), configured_at: now.toISOString() } },
      { now },
    );
    return { url, configured_at: now.toISOString(), ...(generated ? { secret: generated } : {}) };
  }

  async get(tenantId: string): Promise<WebhookView | null> {
    const { state } = await loadState(this.events, webhookStreamId(tenantId), webhookDecider);
    return state.url ? { url: state.url, configured_at: state.configured_at! } : null;
  }

  async remove(tenantId: string): Promise<void> {
    const now = this.clock.now();
    await handleCommand(this.events, webhookStreamId(tenantId), webhookDecider, { type: 'RemoveWebhook', data: { tenant_id: tenantId, removed_at: now.toISOString() } } as const, { now });
  }

  /** The current signing secret, or null when the tenant has no endpoint. */
  async signingSecret(tenantId: string): Promise<string | null> {
    const { state } = await loadState(this.events, webhookStreamId(tenantId), webhookDecider);
    if (!state.secret_sealed) return null;
    return unseal(this.masterKey(), state.secret_sealed);
  }

  async require(tenantId: string): Promise<WebhookView> {
    const w = await this.get(tenantId);
    if (!w) throw notFound('Webhook');
    return w;
  }
}
