import { v5, validate, version } from 'uuid';
import { sha256Uuid, uuidV5, uuidV7 } from './name-based-uuid';

describe('Name-based ids', () => {
  const namespace = '7b3f6c1e-4a2d-4e8f-9c0a-5d6b1e2f3a4b';
  const bytes = Buffer.from(namespace.replace(/-/g, ''), 'hex');

  it('uuidV5 is RFC 4122 version 5: the same id as the uuid package gives', () => {
    for (const name of ['', 'UsageRecorded\u0000acme\u0000req-1', 'ünïcødé ✓', 'x'.repeat(1000)]) expect(uuidV5(name, bytes)).toBe(v5(name, namespace));
  });

  it('sha256Uuid is stable (stored seed ids depend on it) and UUID-shaped', () => {
    expect(sha256Uuid('plan:free')).toBe(sha256Uuid('plan:free'));
    expect(sha256Uuid('plan:free')).not.toBe(sha256Uuid('plan:pro'));
    expect(sha256Uuid('plan:free')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('uuidV7 is an RFC 9562 version 7 UUID whose first 48 bits are the Unix milliseconds, as the uuid package reads it', () => {
    const at = Date.UTC(2026, 10, 24, 4, 35, 26, 357);
    const id = uuidV7(at);
    expect(validate(id)).toBe(true);
    expect(version(id)).toBe(7);
    expect(parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).toBe(at);
    expect(id[19]).toMatch(/[89ab]/);
    expect(new Set(Array.from({ length: 1000 }, () => uuidV7(at))).size).toBe(1000);
    expect(uuidV7(at + 1) > uuidV7(at)).toBe(true);
  });
});
