/**
 * Makes sure the monthly partitions that a batch writes into exist, asking the database only for
 * months this process has not seen yet (see migration 0002, `ensure_event_partitions`).
 */
import type { Sql } from '../store/db.ts';

export class PartitionManager {
  private readonly known = new Set<string>();

  constructor(private readonly sql: Sql) {}

  async ensure(timestamps: string[]): Promise<void> {
    const missing = new Set<string>();
    for (const ts of timestamps) {
      const month = ts.slice(0, 7);
      if (!this.known.has(month)) missing.add(month);
    }
    if (missing.size === 0) return;
    const months = [...missing].map((m) => `${m}-01T00:00:00Z`);
    await this.sql`select ensure_event_partitions(${months}::timestamptz[])`;
    for (const m of missing) this.known.add(m);
  }
}
