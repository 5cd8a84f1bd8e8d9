import { isoTime } from '../../../libs/clock';

/** UTC calendar buckets: days "YYYY-MM-DD" and months "YYYY-MM". */
export const DAY_MS = 86_400_000;

export const dayKey = (d: Date | string): string => (typeof d === 'string' ? isoTime(d) : d.toISOString()).slice(0, 10);
export const monthKey = (d: Date | string): string => new Date(d).toISOString().slice(0, 7);
export const dayStart = (key: string): Date => new Date(`${key}T00:00:00.000Z`);

export function addDays(key: string, n: number): string {
  return dayKey(new Date(dayStart(key).getTime() + n * DAY_MS));
}

/** The same day `months` calendar months earlier (clamped to the month's last day). */
export function minusMonths(d: Date, months: number): Date {
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth() - months;
  const target = new Date(Date.UTC(y, m, 1));
  const last = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  return new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth(), Math.min(d.getUTCDate(), last)));
}

/** Every day key from `from` to `to`, both included. */
export function daysBetween(from: string, to: string): string[] {
  const out: string[] = [];
  for (let k = from; k <= to; k = addDays(k, 1)) out.push(k);
  return out;
}

/** Every month key from `from` to `to`, both included. */
export function monthsBetween(from: string, to: string): string[] {
  const out: string[] = [];
  let [y, m] = from.split('-').map(Number);
  for (;;) {
    const k = `${y}-${String(m).padStart(2, '0')}`;
    if (k > to) break;
    out.push(k);
    m++;
    if (m > 12) {
      m = 1;
      y++;
    }
  }
  return out;
}
