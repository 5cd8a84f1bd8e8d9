import { createHash, randomBytes, timingSafeEqual } from 'crypto';

/** A new key: `tg_` and 32 random bytes in base64url (43 characters). Shown once, never stored. */
export function newApiKey(): string {
  return 'tg_' + randomBytes(32).toString('base64url');
}

export function newKeyId(): string {
  return 'key_' + randomBytes(9).toString('base64url').replace(/[-_]/g, 'x');
}

export function hashKey(rawKey: string): string {
  return createHash('sha256').update(rawKey, 'utf8').digest('hex');
}

/** Constant-time comparison of two hex hashes. */
export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}

export const keyPrefix = (rawKey: string) => rawKey.slice(0, 8);
export const lastFour = (secret: string) => secret.slice(-4);
