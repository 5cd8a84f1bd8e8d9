import { DEFAULT_RETRY_POLICY, nextAttemptAt, webhookDecider } from './webhook';
import { verifyWebhook, signWebhook } from '../infrastructure/webhook-signature';
import { seal, unseal } from '../infrastructure/secret-box';

describe('Webhook retries', () => {
  const created = new Date('2025-03-10T12:00:00.000Z');
  it('back off exponentially from 30 s up to an hour', () => {
    const delays = [1, 2, 3, 4, 8, 9, 12].map((n) => (nextAttemptAt(DEFAULT_RETRY_POLICY, created, created, n)!.getTime() - created.getTime()) / 1000);
    expect(delays).toEqual([30, 60, 120, 240, 3600, 3600, 3600]);
  });

  it('stop a day after the alert', () => {
    const late = new Date(created.getTime() + 86_400_000 - 1000);
    expect(nextAttemptAt(DEFAULT_RETRY_POLICY, created, late, 20)).toBeNull();
    const earlier = new Date(created.getTime() + 3600_000);
    expect(nextAttemptAt(DEFAULT_RETRY_POLICY, created, earlier, 20)).toEqual(new Date(earlier.getTime() + 3600_000));
  });
});

describe('A webhook endpoint', () => {
  const configured = { tenant_id: 'shop', url: 'https://example.com/hook', secret_sealed: 'x', configured_at: '2025-03-10T12:00:00.000Z' };
  it('is configured with an http(s) url only', () => {
    expect(webhookDecider.decide({ type: 'ConfigureWebhook', data: configured }, webhookDecider.initialState())).toEqual([{ type: 'WebhookConfigured', data: configured }]);
    expect(() => webhookDecider.decide({ type: 'ConfigureWebhook', data: { ...configured, url: 'ftp://x' } }, webhookDecider.initialState())).toThrow(expect.objectContaining({ code: 'validation_failed' }));
  });
  it('can be removed only when it exists', () => {
    const state = webhookDecider.evolve(webhookDecider.initialState(), { type: 'WebhookConfigured', data: configured });
    const removed = { tenant_id: 'shop', removed_at: '2025-03-11T00:00:00.000Z' };
    expect(webhookDecider.decide({ type: 'RemoveWebhook', data: removed }, state)).toEqual([{ type: 'WebhookRemoved', data: removed }]);
    expect(() => webhookDecider.decide({ type: 'RemoveWebhook', data: removed }, webhookDecider.initialState())).toThrow(expect.objectContaining({ code: 'not_found' }));
  });
});

describe('Signatures and sealed secrets', () => {
  it('sign "<timestamp>.<body>" with HMAC-SHA256 and verify', () => {
    const sig = signWebhook('whsec_test', '1741608000', '{"a":1}');
    // Known answer computed independently: printf '1741608000.{"a":1}' | openssl dgst -sha256 -hmac whsec_test
    expect(sig).toBe('sha256=3320178d777a356d96db77e954858a739927149b9c03a6c90147b4676c0cb0c4');
    expect(verifyWebhook('whsec_test', '1741608000', '{"a":1}', sig)).toBe(true);
    expect(verifyWebhook('whsec_test', '1741608001', '{"a":1}', sig)).toBe(false);
    expect(verifyWebhook('other', '1741608000', '{"a":1}', sig)).toBe(false);
  });
  it('seal and unseal under the master key', () => {
    const key = Buffer.alloc(32, 7);
    const sealed = seal(key, 'whsec_abc');
    expect(sealed).not.toContain('whsec_abc');
    expect(unseal(key, sealed)).toBe('whsec_abc');
    expect(() => unseal(Buffer.alloc(32, 8), sealed)).toThrow();
  });
});
