/**
 * What one capture relay of this process has moved into Trailproof, per tenant: changes relayed since
 * the process started, when it last relayed any, and how many in the last minute (its throughput).
 * Kept in memory: the outbox's backlog and lag are read from the application's database instead.
 */

/** The span of the throughput figure. */
export const THROUGHPUT_WINDOW_MS = 60_000;

export interface TenantProgress {
  relayed: number;
  lastRelayedAt: string | null;
  /** Changes relayed in the last THROUGHPUT_WINDOW_MS. */
  lastMinute: number;
}

export class RelayProgress {
  private readonly totals = new Map<string, { relayed: number; lastAt: number }>();
  /** The batches of the last window, oldest first. */
  private recent: { at: number; tenant: string; count: number }[] = [];

  /** Notes changes now committed in Trailproof, counted by tenant. */
  record(counts: ReadonlyMap<string, number>, at = Date.now()): void {
    for (const [tenant, count] of counts) {
      if (count === 0) continue;
      const total = this.totals.get(tenant) ?? { relayed: 0, lastAt: at };
      total.relayed += count;
      total.lastAt = at;
      this.totals.set(tenant, total);
      this.recent.push({ at, tenant, count });
    }
    this.forget(at);
  }

  of(tenant: string, now = Date.now()): TenantProgress {
    this.forget(now);
    const total = this.totals.get(tenant);
    const lastMinute = this.recent.reduce((sum, b) => (b.tenant === tenant ? sum + b.count : sum), 0);
    return { relayed: total?.relayed ?? 0, lastRelayedAt: total ? new Date(total.lastAt).toISOString() : null, lastMinute };
  }

  private forget(now: number): void {
    const first = this.recent.findIndex((b) => now - b.at < THROUGHPUT_WINDOW_MS);
    this.recent = first === -1 ? [] : this.recent.slice(first);
  }
}
