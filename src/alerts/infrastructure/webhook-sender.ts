import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Agent, request } from 'undici';
import { APP_CONFIG, AppConfig, configSource } from '../../config/config';
import { assertPublicWebhookUrl, checkWebhookUrl, publicOnlyLookup, WebhookAddressRefused } from './webhook-address';
import { SIGNATURE_HEADER, signWebhook, TIMESTAMP_HEADER } from './webhook-signature';

export const WEBHOOK_TIMEOUT_MS = 10_000;

/** The short reasons the delivery log shows (never a socket error's own text: that would make the log a port scanner). */
export const DELIVERY_REASONS = {
  refused: 'refused: the receiver’s address is not public',
  unreachable: 'could not connect to the receiver',
  timeout: `no answer within ${WEBHOOK_TIMEOUT_MS / 1000} s`,
  noEndpoint: 'The tenant has no webhook endpoint any more.',
} as const;

export interface SendOutcome {
  status_code: number | null;
  /** Null when the receiver answered 2xx; else `HTTP <status>` or one of DELIVERY_REASONS. */
  error: string | null;
  duration_ms: number;
}

/**
 * POSTs one signed webhook. Unless `TOLLGATE_WEBHOOK_ALLOW_PRIVATE=1` (development, tests), the URL must be public when
 * configured and again when sent: a literal host is checked, a name is resolved once by the socket's own lookup,
 * which refuses it if any address is not public. Redirects are not followed (a 3xx is a failed delivery).
 */
@Injectable()
export class WebhookSender implements OnApplicationShutdown {
  readonly allowPrivate: boolean;
  private readonly agent: Agent;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.allowPrivate = /^(1|true|yes)$/i.test(configSource(config).TOLLGATE_WEBHOOK_ALLOW_PRIVATE?.trim() ?? '');
    this.agent = new Agent(this.allowPrivate ? {} : { connect: { lookup: publicOnlyLookup } });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.agent.close().catch(() => undefined);
  }

  /** Refuses (WebhookAddressRefused) a URL that is not, or does not resolve to, a public address. */
  async assertAllowed(url: string): Promise<void> {
    if (this.allowPrivate) checkScheme(url);
    else await assertPublicWebhookUrl(url);
  }

  async send(url: string, secret: string, payload: unknown, delivery: { id: string; attempt: number; at: Date }): Promise<SendOutcome> {
    const started = performance.now();
    const body = JSON.stringify(payload);
    const timestamp = String(Math.floor(delivery.at.getTime() / 1000));
    let status_code: number | null = null;
    let error: string | null = null;
    try {
      if (this.allowPrivate) checkScheme(url);
      else checkWebhookUrl(url);
      const res = await request(url, {
        method: 'POST',
        dispatcher: this.agent,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Tollgate-Webhooks/1',
          [TIMESTAMP_HEADER]: timestamp,
          [SIGNATURE_HEADER]: signWebhook(secret, timestamp, body),
          'x-tollgate-delivery': delivery.id,
          'x-tollgate-attempt': String(delivery.attempt),
        },
        body,
        headersTimeout: WEBHOOK_TIMEOUT_MS,
        bodyTimeout: WEBHOOK_TIMEOUT_MS,
        signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
      });
      status_code = res.statusCode;
      await res.body.dump().catch(() => undefined);
      if (status_code < 200 || status_code >= 300) error = `HTTP ${status_code}`;
    } catch (err) {
      error = shortReason(err);
    }
    return { status_code, error, duration_ms: Math.round(performance.now() - started) };
  }
}

function checkScheme(url: string): void {
  if (!/^https?:\/\//i.test(url)) throw new WebhookAddressRefused('the url must be http or https');
}

function shortReason(err: unknown): string {
  for (let e = err as (Error & { cause?: unknown; code?: string }) | undefined, depth = 0; e && depth < 4; e = e.cause as typeof e, depth++) {
    if (e instanceof WebhookAddressRefused || e.code === 'TOLLGATE_WEBHOOK_ADDRESS_REFUSED') return DELIVERY_REASONS.refused;
    if (e.name === 'TimeoutError' || e.name === 'AbortError' || e.code === 'UND_ERR_HEADERS_TIMEOUT' || e.code === 'UND_ERR_BODY_TIMEOUT' || e.code === 'UND_ERR_CONNECT_TIMEOUT')
      return DELIVERY_REASONS.timeout;
  }
  return DELIVERY_REASONS.unreachable;
}

/** What the delivery log shows for an attempt: its own short reason, or (an attempt stored before) a short one in its place. */
export function shownReason(error: string | null, statusCode: number | null): string | null {
  if (error === null) return null;
  if (statusCode !== null || (Object.values(DELIVERY_REASONS) as string[]).includes(error)) return error;
  return /timed? ?out|No answer within/i.test(error) ? DELIVERY_REASONS.timeout : DELIVERY_REASONS.unreachable;
}
