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
  // A plain decimal with at most 6 places (and 40 digits) needs no rounding: its nearest double is what toNumber gives.
  if (typeof value === 'string') {
    const point = pointOf(value);
    if (value.length <= 40 && point !== NOT_PLAIN && (point < 0 || value.length - point - 1 <= 6)) return Number(value);
  }
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

/**
 * Where the point of a plain non-negative decimal ("12.0045" -> 2) is: -1 for an integer ("12"), NOT_PLAIN for
 * anything else (a sign, an exponent, "1.", ".5", ""). A scan of char codes, without a RegExp: the projections add a
 * cost on every event, and a match allocates an array and its substrings.
 */
const NOT_PLAIN = -2;
function pointOf(s: string): number {
  const n = s.length;
  if (n === 0) return NOT_PLAIN;
  let point = -1;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) continue;
    if (c === 46 && point < 0 && i > 0 && i < n - 1) point = i;
    else return NOT_PLAIN;
  }
  return point;
}

/** A plain non-negative decimal ("12", "0.0000245") as its digits without the point and its scale; null for anything else. */
export function plainDecimal(s: string): { digits: string; scale: number } | null {
  const point = pointOf(s);
  if (point === NOT_PLAIN) return null;
  return { digits: scaledDigits(s, point, 0), scale: point < 0 ? 0 : s.length - point - 1 };
}

/** The digits of a plain decimal without its point, times 10^pad, as a Number (the caller keeps it below 10^15). */
function scaledNumber(s: string, point: number, pad: number): number {
  let v = 0;
  for (let i = 0; i < s.length; i++) if (i !== point) v = v * 10 + (s.charCodeAt(i) - 48);
  return pad ? v * 10 ** pad : v;
}

/** The digits of a plain decimal without its point, padded with `pad` zeros, as a string. */
function scaledDigits(s: string, point: number, pad: number): string {
  const digits = point < 0 ? s : s.slice(0, point) + s.slice(point + 1);
  return pad ? digits + '0'.repeat(pad) : digits;
}

/**
 * a + b for exact decimal strings (or numbers), as `exactString` writes the sum, without building Decimals: the
 * projections add a call's cost to a stored total on every event. Plain non-negative decimals ("12.0000245") are
 * added as integers at the longer scale (Number below 10^15, BigInt above); anything else (a sign, an exponent)
 * goes through decimal.js. Equal, digit for digit, to `exactString(new Money(a).plus(b))`.
 */
export function plusExact(a: string | number, b: string | number): string {
  const x = typeof a === 'string' ? a : String(a);
  const y = typeof b === 'string' ? b : String(b);
  const px = pointOf(x);
  const py = px === NOT_PLAIN ? NOT_PLAIN : pointOf(y);
  if (px === NOT_PLAIN || py === NOT_PLAIN) return new Money(x).plus(y).toFixed();
  const fx = px < 0 ? 0 : x.length - px - 1;
  const fy = py < 0 ? 0 : y.length - py - 1;
  const scale = fx > fy ? fx : fy;
  // Digits of each operand as an integer at the common scale (leading zeros included: a safe overestimate).
  const lx = x.length - (px < 0 ? 0 : 1) + scale - fx;
  const ly = y.length - (py < 0 ? 0 : 1) + scale - fy;
  if (lx <= 15 && ly <= 15) return scaledToExact(scaledNumber(x, px, scale - fx) + scaledNumber(y, py, scale - fy), scale);
  const digits = (BigInt(scaledDigits(x, px, scale - fx)) + BigInt(scaledDigits(y, py, scale - fy))).toString();
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
  let digits = typeof integer === 'string' ? integer : String(integer);
  let lead = 0;
  while (lead < digits.length - 1 && digits.charCodeAt(lead) === 48) lead++;
  if (lead) digits = digits.slice(lead);
  if (scale === 0) return digits;
  const n = digits.length;
  const fraction = n - scale;
  let end = n;
  while (end > 0 && end > fraction && digits.charCodeAt(end - 1) === 48) end--;
  if (fraction > 0) return end > fraction ? `${digits.slice(0, fraction)}.${digits.slice(fraction, end)}` : digits.slice(0, fraction);
  return end === 0 ? '0' : `0.${'0'.repeat(-fraction)}${digits.slice(0, end)}`;
}
