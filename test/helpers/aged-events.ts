/**
 * Events received in the past, for lifecycle tests: the service stamps `received_at` (what
 * retention counts from) with the clock at commit, so these are validated and appended through the
 * real append path with `Date` set back by `daysAgo` days.
 */
import { vi } from 'vitest';
import { validateEvent } from '../../src/event/validate.ts';
import { appendBatch, type AppendResult } from '../../src/ingest/append-batch.ts';
import { PartitionManager } from '../../src/ingest/partitions.ts';
import type { Sql } from '../../src/store/db.ts';

export const DAY_MS = 86_400_000;

/** Appends `events` (client events, or service records with `service`) to `tenant` as received `daysAgo` days ago; their indices. */
export async function appendReceivedAgo(sql: Sql, tenant: string, daysAgo: number, events: object[], options: { service?: boolean } = {}): Promise<number[]> {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(Date.now() - daysAgo * DAY_MS);
  try {
    const now = new Date();
    const items = events.map((input) => {
      const checked = validateEvent(input, { now, origin: options.service ? 'service' : 'client' });
      if (!checked.ok) throw new Error(`invalid test event: ${JSON.stringify(checked.errors)}`);
      return { tenant, body: checked.body };
    });
    await new PartitionManager(sql).ensure(items.map((i) => i.body.occurred_at));
    const results = await appendBatch(sql, items);
    return results.map((r: AppendResult) => {
      if (r.status !== 'created') throw new Error(`append: ${r.status}`);
      return r.seq;
    });
  } finally {
    vi.useRealTimers();
  }
}
