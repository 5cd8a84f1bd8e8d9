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

/** A plain non-negative decimal ("12", "0.0000245"): its integer digits, and its fraction's digits if any. */
export const PLAIN_DECIMAL = /^(\d+)(?:\.(\d+))?$/;

/**
 * a + b for exact decimal strings (or numbers), as `exactString` writes the sum, without building Decimals: the
 * projections add a call's cost to a stored total on every event. Plain non-negative decimals ("12.0000245") are
 * added as integers at the longer scale (Number below 10^15, BigInt above); anything else (a sign, an exponent)
 * goes through decimal.js. Equal, digit for digit, to `exactString(new Money(a).plus(b))`.
 */
export function plusExact(a: string | number, b: string | number): string {
  const x = typeof a === 'string' ? a : String(a);
  const y = typeof b === 'string' ? b : String(b);
  const ma = PLAIN_DECIMAL.exec(x);
  const mb = ma && PLAIN_DECIMAL.exec(y);
  if (!ma || !mb) return new Money(x).plus(y).toFixed();
  const fa = ma[2] ?? '';
  const fb = mb[2] ?? '';
  const scale = fa.length > fb.length ? fa.length : fb.length;
  const ia = ma[1] + (fa.length === scale ? fa : fa.padEnd(scale, '0'));
  const ib = mb[1] + (fb.length === scale ? fb : fb.padEnd(scale, '0'));
  if (ia.length <= 15 && ib.length <= 15) return scaledToExact(Number(ia) + Number(ib), scale);
  const digits = (BigInt(ia) + BigInt(ib)).toString();
  // Past Money's 40 significant digits decimal.js rounds: so does this, by letting it add.
  return digits.length - (scale ? trailingZeros(digits, scale) : 0) > 40 ? new Money(x).plus(y).toFixed() : scaledToExact(digits, scale);
}

function trailingZeros(digits: string, max: number): number {
  let n = 0;
  while (n < max && digits.charCodeAt(digits.length - 1 - n) === 48) n++;
  return n;
}

/** An integer count of 10^-scale units as a plain decimal without trailing zeros ("245", 7 -> "0.0000245"). */
export function scaledToExact(integer: string | number, scale: number): string {
  const digits = typeof integer === 'string' ? integer : String(integer);
  if (scale === 0) return digits.replace(/^0+(?=\d)/, '');
  const padded = digits.length > scale ? digits : digits.padStart(scale + 1, '0');
  const int = padded.slice(0, padded.length - scale).replace(/^0+(?=\d)/, '');
  let end = padded.length;
  while (end > padded.length - scale && padded.charCodeAt(end - 1) === 48) end--;
  return end > padded.length - scale ? `${int}.${padded.slice(padded.length - scale, end)}` : int;
}
