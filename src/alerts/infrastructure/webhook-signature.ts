import { createHmac, timingSafeEqual } from 'crypto';

export const SIGNATURE_HEADER = 'x-tollgate-signature';
export const TIMESTAMP_HEADER = 'x-tollgate-timestamp';

/** `sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`, keyed by the endpoint's secret. */
export function signWebhook(secret: string, timestamp: string, body: string | Buffer): string {
  return 'sha256=' + createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
}

/** What a receiver does: recompute and compare in constant time (and reject stale timestamps itself). */
export function verifyWebhook(secret: string, timestamp: string, body: string | Buffer, signature: string): boolean {
  const expected = Buffer.from(signWebhook(secret, timestamp, body));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
