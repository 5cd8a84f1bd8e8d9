import { Inject, Injectable } from '@nestjs/common';
import { CLOCK, Clock } from '../../../libs/clock';
import { AppError } from '../../../libs/errors';

/** Failed authentications allowed per client address (and per presented key prefix) in one window. */
export const FAILED_AUTH_LIMIT = 60;
export const FAILED_AUTH_WINDOW_MS = 60_000;
const MAX_TRACKED = 50_000;
/** How much of a presented key names its prefix (as `keyPrefix`: `tg_` and five characters). */
const PREFIX_LENGTH = 8;

/**
 * Fixed-window counters of failed authentications, per client address and per presented key prefix (in memory, per
 * instance), for the management API and the gateway alike. Only failures are slowed: a key that authenticates is
 * always served, however many others failed from its address or with its prefix; a failure beyond the limit is
 * answered 429 with Retry-After instead of 401.
 */
@Injectable()
export class FailedAuthLimiter {
  private readonly windows = new Map<string, { start: number; failures: number }>();

  constructor(@Inject(CLOCK) private readonly clock: Clock) {}

  /**
   * Counts one failed authentication from `address` with the key presented (null when none). Returns the seconds
   * until the address, or the key's prefix, may fail again when either is over the limit (answer 429), else null.
   */
  fail(address: string, presentedKey: string | null): number | null {
    const now = this.clock.now().getTime();
    let wait = this.count(`a:${address}`, now);
    if (typeof presentedKey === 'string' && presentedKey.startsWith('tg_') && presentedKey.length > PREFIX_LENGTH) {
      const w = this.count(`p:${presentedKey.slice(0, PREFIX_LENGTH)}`, now);
      if (w !== null) wait = Math.max(wait ?? 0, w);
    }
    return wait;
  }

  private count(key: string, now: number): number | null {
    let w = this.windows.get(key);
    if (w && now - w.start >= FAILED_AUTH_WINDOW_MS) {
      this.windows.delete(key);
      w = undefined;
    }
    if (!w) {
      if (this.windows.size >= MAX_TRACKED) this.prune(now);
      w = { start: now, failures: 0 };
      this.windows.set(key, w);
    }
    w.failures++;
    return w.failures > FAILED_AUTH_LIMIT ? Math.max(1, Math.ceil((w.start + FAILED_AUTH_WINDOW_MS - now) / 1000)) : null;
  }

  private prune(now: number): void {
    for (const [k, w] of this.windows) if (now - w.start >= FAILED_AUTH_WINDOW_MS) this.windows.delete(k);
    if (this.windows.size >= MAX_TRACKED) this.windows.delete(this.windows.keys().next().value!);
  }
}

/** The management API's answer to a failure beyond the limit. */
export const tooManyFailedAuthentications = (retry: number) =>
  new AppError(429, 'too_many_failed_authentications', `Too many failed authentication attempts from this address or with this key prefix; retry in ${retry} s.`, { retry_after_seconds: retry }, { 'retry-after': String(retry) });
