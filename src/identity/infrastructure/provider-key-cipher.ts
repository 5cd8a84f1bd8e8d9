import { createCipheriv, createDecipheriv, randomBytes } from 'crypto';

/**
 * AES-256-GCM under the master key: a fresh 96-bit IV for every encryption, the tenant id as associated data (a
 * ciphertext moved to another tenant fails to decrypt), the 128-bit tag checked on decryption (tampering fails).
 * Format: `v1.<iv>.<ciphertext>.<tag>` in base64url.
 */
export function encryptProviderKey(masterKey: Buffer, tenantId: string, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', masterKey, iv);
  cipher.setAAD(Buffer.from(`tollgate-provider-key:${tenantId}`, 'utf8'));
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return ['v1', iv.toString('base64url'), ct.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
}

/** Throws when the ciphertext was tampered with, belongs to another tenant or was sealed under another master key. */
export function decryptProviderKey(masterKey: Buffer, tenantId: string, sealed: string): string {
  const [version, iv, ct, tag] = sealed.split('.');
  if (version !== 'v1' || !iv || ct === undefined || !tag) throw new Error('Unknown provider key format');
  const decipher = createDecipheriv('aes-256-gcm', masterKey, Buffer.from(iv, 'base64url'));
  decipher.setAAD(Buffer.from(`tollgate-provider-key:${tenantId}`, 'utf8'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8');
}
