import fc from 'fast-check';
import { daysInMonth, periodAt, periodContaining, periodStart } from './billing-period';

const DAY = 86_400_000;
/** Any instant from 1970 to 2200, to the millisecond. */
const instant = fc.integer({ min: 0, max: Date.UTC(2200, 0, 1) }).map((t) => new Date(t));
const timeOfDay = (d: Date) => ((d.getTime() % DAY) + DAY) % DAY;
const cycle = fc.constantFrom('monthly' as const, 'yearly' as const);

describe('Billing periods (calendar-correct, UTC)', () => {
  it('a monthly period starts on the anchor day, clamped to the month end, keeping the time of day', () => {
    fc.assert(
      fc.property(instant, fc.integer({ min: -400, max: 400 }), (anchor, n) => {
        const s = periodStart(anchor, 'monthly', n);
        const months = anchor.getUTCFullYear() * 12 + anchor.getUTCMonth() + n;
        expect(s.getUTCFullYear() * 12 + s.getUTCMonth()).toBe(months);
        expect(s.getUTCDate()).toBe(Math.min(anchor.getUTCDate(), daysInMonth(s.getUTCFullYear(), s.getUTCMonth())));
        expect(timeOfDay(s)).toBe(timeOfDay(anchor));
      }),
      { numRuns: 2000 },
    );
  });

  it('returns to the anchor day after a short month (Jan 31, Feb 28 or 29, Mar 31, Apr 30)', () => {
    const a = new Date('2024-01-31T10:00:00.000Z');
    expect([0, 1, 2, 3, 4, 13].map((n) => periodStart(a, 'monthly', n).toISOString())).toEqual([
      '2024-01-31T10:00:00.000Z',
      '2024-02-29T10:00:00.000Z',
      '2024-03-31T10:00:00.000Z',
      '2024-04-30T10:00:00.000Z',
      '2024-05-31T10:00:00.000Z',
      '2025-02-28T10:00:00.000Z',
    ]);
    fc.assert(
      fc.property(instant, fc.integer({ min: 0, max: 400 }), (anchor, n) => {
        // Whenever the month is long enough the anchor day comes back.
        const s = periodStart(anchor, 'monthly', n);
        if (daysInMonth(s.getUTCFullYear(), s.getUTCMonth()) >= anchor.getUTCDate()) expect(s.getUTCDate()).toBe(anchor.getUTCDate());
      }),
      { numRuns: 2000 },
    );
  });

  it('a yearly period runs to the same date next year, Feb 29 to Feb 28 in a common year and back to Feb 29', () => {
    const a = new Date('2024-02-29T00:00:00.000Z');
    expect([1, 2, 3, 4].map((n) => periodStart(a, 'yearly', n).toISOString().slice(0, 10))).toEqual(['2025-02-28', '2026-02-28', '2027-02-28', '2028-02-29']);
    fc.assert(
      fc.property(instant, fc.integer({ min: -100, max: 100 }), (anchor, n) => {
        const s = periodStart(anchor, 'yearly', n);
        expect(s.getUTCFullYear()).toBe(anchor.getUTCFullYear() + n);
        expect(s.getUTCMonth()).toBe(anchor.getUTCMonth());
      }),
      { numRuns: 2000 },
    );
  });

  it('periods are contiguous, ordered, and 28 to 31 days (monthly) or 365 to 366 days (yearly) long', () => {
    fc.assert(
      fc.property(instant, cycle, fc.integer({ min: -300, max: 300 }), (anchor, c, n) => {
        const p = periodAt(anchor, c, n);
        const q = periodAt(anchor, c, n + 1);
        expect(q.start.getTime()).toBe(p.end.getTime());
        const days = (p.end.getTime() - p.start.getTime()) / DAY;
        if (c === 'monthly') {
          expect(days).toBeGreaterThanOrEqual(28);
          expect(days).toBeLessThanOrEqual(31);
        } else {
          expect(days).toBeGreaterThanOrEqual(365);
          expect(days).toBeLessThanOrEqual(366);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('finds the one period containing any instant', () => {
    fc.assert(
      fc.property(instant, instant, cycle, (anchor, at, c) => {
        const p = periodContaining(anchor, c, at);
        expect(p.start.getTime()).toBeLessThanOrEqual(at.getTime());
        expect(p.end.getTime()).toBeGreaterThan(at.getTime());
        expect(p.start.getTime()).toBe(periodStart(anchor, c, p.index).getTime());
      }),
      { numRuns: 3000 },
    );
  });
});
