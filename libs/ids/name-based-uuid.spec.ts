import { v5 } from 'uuid';
import { sha256Uuid, uuidV5 } from './name-based-uuid';

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
});
