import { uuidV7 } from '../../../libs/ids/name-based-uuid';
import { refusalEventId, usageEventId, uuidV5 } from './deterministic-id';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('Usage event ids', () => {
  it('given a client id that is not a UUIDv7, then the id is the v5 UUID of the name, as stored before (old reports still match)', () => {
    expect(usageEventId('acme', 'evt-1')).toBe(uuidV5('UsageRecorded\u0000acme\u0000evt-1'));
    expect(refusalEventId('acme', '0b6c2b3e-4b8e-4d0e-9c55-0a0c1e0d9f11')).toBe(uuidV5('UsageRefused\u0000acme\u00000b6c2b3e-4b8e-4d0e-9c55-0a0c1e0d9f11'));
  });

  it('given a gateway request id (UUIDv7), then the id keeps its millisecond prefix, is a UUID, and is the same on a retry', () => {
    const requestId = uuidV7();
    const id = usageEventId('acme', requestId);
    expect(id).toMatch(UUID);
    expect(id.slice(0, 13)).toBe(requestId.slice(0, 13));
    expect(usageEventId('acme', requestId)).toBe(id);
    expect(usageEventId('other-tenant', requestId)).not.toBe(id);
    expect(refusalEventId('acme', requestId)).not.toBe(id);
  });

  it('given calls one after another, then their event ids sort in the same order (neighbours in the unique index)', () => {
    const ids: string[] = [];
    for (let i = 0; i < 50; i++) ids.push(usageEventId('acme', uuidV7(1_790_000_000_000 + i)));
    expect([...ids].sort()).toEqual(ids);
  });
});
