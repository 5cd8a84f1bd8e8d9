import fc from 'fast-check';
import Decimal from 'decimal.js';
import { costToJson, exactString, Money, plusExact, scaledToExact } from './money';

/** A decimal string as stored: plain digits, up to 30 of them after the point, or the odd forms the fallback handles. */
const decimal = fc.oneof(
  fc.tuple(fc.bigInt({ min: 0n, max: 10n ** 25n }), fc.nat({ max: 30 })).map(([n, scale]) => new Money(n.toString()).div(new Money(10).pow(scale)).toFixed()),
  fc.tuple(fc.nat({ max: 1_000_000 }), fc.nat({ max: 9 })).map(([n, scale]) => new Money(n).div(10 ** scale).toFixed()),
  fc.constantFrom('0', '0.0', '000.100', '-0.5', '1e-7', '12.50', '99999999999999.99999'),
);

describe('Adding exact decimal strings (plusExact)', () => {
  it('given any two decimals, then the sum equals decimal.js digit for digit, written as exactString writes it', () => {
    fc.assert(
      fc.property(decimal, decimal, (a, b) => {
        expect(plusExact(a, b)).toBe(exactString(new Money(a).plus(b)));
      }),
      { numRuns: 5_000 },
    );
  });

  it('given a cost of $0.000045 added to a total of $12.3, then 12.300045, without trailing zeros', () => {
    expect(plusExact('12.3', '0.000045')).toBe('12.300045');
    expect(plusExact('0.5', '0.5')).toBe('1');
    expect(plusExact(0, '0')).toBe('0');
    expect(plusExact('1.', '2')).toBe('3');
    expect(plusExact('.5', '0.25')).toBe('0.75');
  });
});

describe('Writing a count of 10^-scale units (scaledToExact)', () => {
  it('given 245 at scale 7, then 0.0000245; given 2500 at scale 3, then 2.5; given 0, then 0', () => {
    expect(scaledToExact(245, 7)).toBe('0.0000245');
    expect(scaledToExact(2500, 3)).toBe('2.5');
    expect(scaledToExact(0, 4)).toBe('0');
    expect(scaledToExact('007', 0)).toBe('7');
    expect(scaledToExact('0012050', 3)).toBe('12.05');
    expect(scaledToExact(12000, 3)).toBe('12');
    expect(scaledToExact('000', 2)).toBe('0');
  });
});

describe('A cost as JSON (costToJson)', () => {
  it('given any decimal, then the number decimal.js gives after rounding half-even to 6 places', () => {
    fc.assert(
      fc.property(decimal, (a) => {
        expect(costToJson(a)).toBe(new Money(a).toDecimalPlaces(6, Decimal.ROUND_HALF_EVEN).toNumber());
      }),
      { numRuns: 5_000 },
    );
  });

  it('given 0.0000025, then 0.000002 (half-even); given 0.0000035, then 0.000004; given 12.5, then 12.5', () => {
    expect(costToJson('0.0000025')).toBe(0.000002);
    expect(costToJson('0.0000035')).toBe(0.000004);
    expect(costToJson('12.5')).toBe(12.5);
    expect(costToJson('000.100')).toBe(0.1);
  });
});
