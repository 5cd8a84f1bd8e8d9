import { createHash } from 'crypto';

/** Tollgate's namespace for name-based event and alert ids. */
const NAMESPACE = Buffer.from('5d0c3c2e9a7b4b0f8e1f6a2b3c4d5e6f', 'hex');

/** A UUID v5 (SHA-1, name-based) of `name`: the same name always gives the same id, so appends of it are idempotent. */
export function deterministicUuid(name: string): string {
  const hash = createHash('sha1').update(NAMESPACE).update(name, 'utf8').digest();
  const b = Buffer.from(hash.subarray(0, 16));
  b[6] = (b[6] & 0x0f) | 0x50;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
