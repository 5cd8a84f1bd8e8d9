import { randomBytes } from 'crypto';
import { Inject, Injectable } from '@nestjs/common';
import { CLOCK, Clock } from '../../../libs/clock';
import { AppError, notFound } from '../../../libs/errors';
import { handleCommand, loadState } from '../../../libs/event-store/command-handling';
import { EVENT_STORE, EventStore } from '../../../libs/event-store/port';
import { APP_CONFIG, AppConfig } from '../../shell';
import { webhookDecider, WebhookEvent, webhookStreamId } from '../domain/webhook';
import { seal, unseal } from '../infrastructure/secret-box';
import { WebhookAddressRefused } from '../infrastructure/webhook-address';
import { WebhookSender } from '../infrastructure/webhook-sender';

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
    private readonly sender: WebhookSender,
  ) {}

  private masterKey(): Buffer {
    if (!this.config.masterKey)
      throw new AppError(409, 'master_key_missing', 'TOLLGATE_MASTER_KEY must be set to store a webhook secret (generate one with: openssl rand -hex 32).');
    return this.config.masterKey;
  }

  /**
   * Sets the endpoint, once its URL is known to be public (422 otherwise). A given secret replaces the signing secret;
   * without one, the endpoint keeps the secret it has (a changed URL is not a new secret), and a first endpoint gets a
   * generated one, returned this once.
   */
  async configure(tenantId: string, url: string, secret?: string): Promise<WebhookView & { secret?: string }> {
    const key = this.masterKey();
    await this.assertAllowed(url);
    const { state } = await loadState(this.events, webhookStreamId(tenantId), webhookDecider);
    const generated = secret || state.secret_sealed ? undefined : newSecret();
    return this.store(tenantId, url, secret ? seal(key, secret) : (state.secret_sealed ?? seal(key, generated!)), generated);
  }

  /** A new signing secret for the endpoint (shown this once); the URL stays. */
  async rotateSecret(tenantId: string): Promise<WebhookView & { secret: string }> {
    const key = this.masterKey();
    const { state } = await loadState(this.events, webhookStreamId(tenantId), webhookDecider);
    if (!state.url) throw notFound('Webhook');
    const secret = newSecret();
    return (await this.store(tenantId, state.url, seal(key, secret), secret)) as WebhookView & { secret: string };
  }

  private async store(tenantId: string, url: string, secretSealed: string, shown: string | undefined): Promise<WebhookView & { secret?: string }> {
    const now = this.clock.now();
    await handleCommand<ReturnType<typeof webhookDecider.initialState>, Parameters<typeof webhookDecider.decide>[0], WebhookEvent>(
      this.events,
      webhookStreamId(tenantId),
      webhookDecider,
      { type: 'ConfigureWebhook', data: { tenant_id: tenantId, url, secret_sealed: secretSealed, configured_at: now.toISOString() } },
      { now },
    );
    return { url, configured_at: now.toISOString(), ...(shown ? { secret: shown } : {}) };
  }

  private async assertAllowed(url: string): Promise<void> {
    try {
      await this.sender.assertAllowed(url);
    } catch (err) {
      if (err instanceof WebhookAddressRefused)
        throw new AppError(422, 'validation_failed', `The webhook url is refused: ${err.reason}. Webhooks go only to public addresses.`, { fields: [{ field: 'url', problems: [err.reason] }] });
      throw err;
    }
  }

  async get(tenantId: string): Promise<WebhookView | null> {
    const { state } = await loadState(this.events, webhookStreamId(tenantId), webhookDecider);
    return state.url ? { url: state.url, configured_at: state.configured_at! } : null;
  }

  async remove(tenantId: string): Promise<void> {
    const now = this.clock.now();
    await handleCommand(this.events, webhookStreamId(tenantId), webhookDecider, { type: 'RemoveWebhook', data: { tenant_id: tenantId, removed_at: now.toISOString() } } as const, { now });
  }

  /** Where deliveries go now and the secret they are signed with, or null when the tenant has no endpoint. */
  async endpoint(tenantId: string): Promise<{ url: string; secret: string } | null> {
    const { state } = await loadState(this.events, webhookStreamId(tenantId), webhookDecider);
    if (!state.url || !state.secret_sealed) return null;
    return { url: state.url, secret: unseal(this.masterKey(), state.secret_sealed) };
  }

  async require(tenantId: string): Promise<WebhookView> {
    const w = await this.get(tenantId);
    if (!w) throw notFound('Webhook');
    return w;
  }
}

const newSecret = () => 'whsec_' + randomBytes(24).toString('base64url');
