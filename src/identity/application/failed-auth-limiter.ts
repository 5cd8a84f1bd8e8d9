import { Inject, Injectable } from '@nestjs/common';
import { CLOCK, Clock } from '../../../libs/clock';
import { AppError } from '../../../libs/errors';

/** Failed authentications allowed per client address in one window; beyond it every keyed call from there gets 429. */
export const FAILED_AUTH_LIMIT = 60;
export const FAILED_AUTH_WINDOW_MS = 60_000;
const MAX_TRACKED = 50_000;

/** A fixed-window counter of failed authentications per client address (in memory, per instance). */
@Injectable()
export class FailedAuthLimiter {
  private readonly windows = new Map<string, { start: number; failures: number }>();

  constructor(@Inject(CLOCK) private readonly clock: Clock) {}

  /** Throws 429 when the address has failed too often in the current window. */
  check(address: string): void {
    const w = this.current(address);
    if (w && w.failures >= FAILED_AUTH_LIMIT) {
      const retry = Math.max(1, Math.ceil((w.start + FAILED_AUTH_WINDOW_MS - this.clock.now().getTime()) / 1000));
      throw new AppError(429, 'too_many_failed_authentications', `Too many failed authentication attempts from this address; retry in ${retry} s.`, { retry_after_seconds: retry }, { 'retry-after': String(retry) });
    }
  }

  fail(address: string): void {
    const now = this.clock.now().getTime();
    let w = this.current(address);
    if (!w) {
      if (this.windows.size >= MAX_TRACKED) this.prune(now);
      w = { start: now, failures: 0 };
      this.windows.set(address, w);
    }
    w.failures++;
  }

  private current(address: string): { start: number; failures: number } | undefined {
    const w = this.windows.get(address);
    if (w && this.clock.now().getTime() - w.start >= FAILED_AUTH_WINDOW_MS) {
      this.windows.delete(address);
      return undefined;
    }
    return w;
  }

  private prune(now: number): void {
    for (const [k, w] of this.windows) if (now - w.start >= FAILED_AUTH_WINDOW_MS) this.windows.delete(k);
    if (this.windows.size >= MAX_TRACKED) this.windows.delete(this.windows.keys().next().value!);
  }
}
