import Decimal from 'decimal.js';

/**
 * Exact money. Every amount is a decimal.js Decimal (base-10, 40 significant digits), from the price catalog
 * through every sum, and is rounded only where it leaves the API. The rounding rules live here and only here:
 * - costs (usage, per call, per period): 6 decimal places, ROUND_HALF_EVEN, as a JSON number; the exact value
 *   travels beside it as a string (`cost_exact`);
 * - billed amounts (billing records, plan fees, proration): cents, ROUND_HALF_EVEN (banker's rounding, so a
 *   long run of half-cent amounts does not drift upwards).
 */
export const Money = Decimal.clone({ precision: 40, rounding: Decimal.ROUND_HALF_EVEN, toExpNeg: -30, toExpPos: 40 });
export type Money = Decimal;

export const ZERO: Money = new Money(0);

export function money(value: Decimal.Value): Money {
  return new Money(value);
}

/** Sums exactly. */
export function sum(values: Iterable<Decimal.Value>): Money {
  let total = new Money(0);
  for (const v of values) total = total.plus(v);
  return total;
}

/** A cost as shown in JSON: a number rounded half-even to 6 decimal places. */
export function costToJson(value: Decimal.Value): number {
  return new Money(value).toDecimalPlaces(6, Decimal.ROUND_HALF_EVEN).toNumber();
}

/** The exact decimal as a plain string without exponent ("0.0000001"). */
export function exactString(value: Decimal.Value): string {
  return new Money(value).toFixed();
}

/** A billed amount: rounded half-even to cents. */
export function toCents(value: Decimal.Value): Money {
  return new Money(value).toDecimalPlaces(2, Decimal.ROUND_HALF_EVEN);
}

/** A billed amount as shown in JSON: a number with 2 decimal places. */
export function billedToJson(value: Decimal.Value): number {
  return toCents(value).toNumber();
}
