import type { StoredEvent } from '../event-store/port';

/**
 * Per-user change counters that caches key on: bumped for each user of a committed batch's events (their data names
 * `tenant_id` and `user_id`), and a new generation when the read model is set up again (a rebuild).
 */
export class UserVersions {
  private readonly versions = new Map<string, number>();
  private generation = 0;

  newGeneration(): void {
    this.generation++;
  }

  bump(events: StoredEvent[]): void {
    for (const e of events) {
      const d = e.data as { tenant_id: string; user_id: string };
      const k = `${d.tenant_id}|${d.user_id}`;
      this.versions.set(k, (this.versions.get(k) ?? 0) + 1);
    }
  }

  of(tenantId: string, userId: string): string {
    return `${this.generation}.${this.versions.get(`${tenantId}|${userId}`) ?? 0}`;
  }
}
