import { AppError } from '../../../libs/errors';

/** A tenant's webhook endpoint. The secret is stored sealed (AES-256-GCM under the master key), never in clear. */
export interface WebhookConfiguredData {
  tenant_id: string;
  url: string;
  secret_sealed: string;
  configured_at: string;
}

export interface WebhookRemovedData {
  tenant_id: string;
  removed_at: string;
}

export type WebhookEvent = { type: 'WebhookConfigured'; data: WebhookConfiguredData } | { type: 'WebhookRemoved'; data: WebhookRemovedData };

export type WebhookCommand = { type: 'ConfigureWebhook'; data: WebhookConfiguredData } | { type: 'RemoveWebhook'; data: WebhookRemovedData };

export interface WebhookState {
  url: string | null;
  secret_sealed: string | null;
  configured_at: string | null;
}

export const webhookStreamId = (tenantId: string) => `webhook-${tenantId}`;

export const webhookDecider = {
  initialState: (): WebhookState => ({ url: null, secret_sealed: null, configured_at: null }),
  evolve(state: WebhookState, event: WebhookEvent): WebhookState {
    switch (event.type) {
      case 'WebhookConfigured':
        return { url: event.data.url, secret_sealed: event.data.secret_sealed, configured_at: event.data.configured_at };
      case 'WebhookRemoved':
        return { url: null, secret_sealed: null, configured_at: null };
      default: {
        const never: never = event;
        return never;
      }
    }
  },
  decide(command: WebhookCommand, state: WebhookState): WebhookEvent[] {
    switch (command.type) {
      case 'ConfigureWebhook':
        if (!/^https?:\/\/[^\s]+$/i.test(command.data.url)) throw new AppError(422, 'validation_failed', 'The webhook url must be an http(s) URL.', { url: command.data.url });
        return [{ type: 'WebhookConfigured', data: command.data }];
      case 'RemoveWebhook':
        if (!state.url) throw new AppError(404, 'not_found', 'No webhook is configured.');
        return [{ type: 'WebhookRemoved', data: command.data }];
      default: {
        const never: never = command;
        return never;
      }
    }
  },
};

/** One attempt to deliver one alert to one endpoint (the delivery log is the projection of these). */
export interface WebhookDeliveryAttemptedData {
  delivery_id: string;
  tenant_id: string;
  alert_id: string;
  url: string;
  /** 1-based. */
  attempt: number;
  attempted_at: string;
  /** Null when no HTTP answer came (refused, timed out). */
  status_code: number | null;
  ok: boolean;
  error: string | null;
  duration_ms: number;
  /** When the next attempt is due; null when delivered or given up. */
  next_attempt_at: string | null;
  gave_up: boolean;
}

export const webhookDeliveryStreamId = (deliveryId: string) => `webhookdelivery-${deliveryId}`;

/**
 * Retry policy: the n-th failed attempt waits base x 2^(n-1), at most `maxDelayMs`; no attempt is scheduled later than
 * `giveUpAfterMs` after the alert was raised (a day). No jitter: deliveries are already spread by when alerts happen.
 */
export interface RetryPolicy {
  baseDelayMs: number;
  maxDelayMs: number;
  giveUpAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { baseDelayMs: 30_000, maxDelayMs: 3_600_000, giveUpAfterMs: 86_400_000 };

export function nextAttemptAt(policy: RetryPolicy, createdAt: Date, attemptedAt: Date, failedAttempts: number): Date | null {
  const delay = Math.min(policy.baseDelayMs * 2 ** Math.max(0, failedAttempts - 1), policy.maxDelayMs);
  const next = new Date(attemptedAt.getTime() + delay);
  return next.getTime() - createdAt.getTime() > policy.giveUpAfterMs ? null : next;
}
