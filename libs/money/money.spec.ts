import fc from 'fast-check';
import { exactString, Money, plusExact, scaledToExact } from './money';

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
  });
});

describe('Writing a count of 10^-scale units (scaledToExact)', () => {
  it('given 245 at scale 7, then 0.0000245; given 2500 at scale 3, then 2.5; given 0, then 0', () => {
    expect(scaledToExact(245, 7)).toBe('0.0000245');
    expect(scaledToExact(2500, 3)).toBe('2.5');
    expect(scaledToExact(0, 4)).toBe('0');
    expect(scaledToExact('007', 0)).toBe('7');
  });
});
