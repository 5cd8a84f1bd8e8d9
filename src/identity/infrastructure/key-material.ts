import { hash, randomBytes, timingSafeEqual } from 'crypto';

/** A new key: `tg_` and 32 random bytes in base64url (43 characters). Shown once, never stored. */
export function newApiKey(): string {
  return 'tg_' + randomBytes(32).toString('base64url');
}

export function newKeyId(): string {
  return 'key_' + randomBytes(9).toString('base64url').replace(/[-_]/g, 'x');
}

/** SHA-256 of the key, hex: what is stored and looked up (crypto.hash: one call, no Hash object per request). */
export function hashKey(rawKey: string): string {
  return hash('sha256', rawKey, 'hex');
}

/** Constant-time comparison of two hex hashes. */
export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}

export const keyPrefix = (rawKey: string) => rawKey.slice(0, 8);
export const lastFour = (secret: string) => secret.slice(-4);
