import { isoTime } from './iso-time';

describe('isoTime', () => {
  it('given a time already in toISOString form, then it is returned as is', () => {
    expect(isoTime('2026-11-24T03:20:00.123Z')).toBe('2026-11-24T03:20:00.123Z');
  });

  it.each([
    ['2026-11-24T03:20:00Z', '2026-11-24T03:20:00.000Z'],
    ['2026-11-24T04:20:00.5+01:00', '2026-11-24T03:20:00.500Z'],
    ['2026-11-24', '2026-11-24T00:00:00.000Z'],
  ])('given %s, then it is normalised to %s', (input, expected) => {
    expect(isoTime(input)).toBe(expected);
  });
});
