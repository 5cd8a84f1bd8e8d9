import { joinIdParts } from './composite-id';

describe('joinIdParts', () => {
  it('gives different strings for tuples that a plain separator would join alike', () => {
    expect(joinIdParts('acme', 'eu-1')).not.toBe(joinIdParts('acme-eu', '1'));
    expect(joinIdParts('a', 'b/1:c')).not.toBe(joinIdParts('a/1:b', 'c'));
    expect(joinIdParts('a', '')).not.toBe(joinIdParts('', 'a'));
  });

  it('writes each part with its length', () => {
    expect(joinIdParts('acme-eu', '1')).toBe('7:acme-eu/1:1');
  });
});
