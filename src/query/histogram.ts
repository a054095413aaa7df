/**
 * Counts of the events a filter selects per time bucket: what the console's activity histogram
 * draws. Equal buckets over [since, until); a bucket with no events is a 0, so the answer always
 * has exactly `buckets` counts. An empty window also says when the newest event the filters select
 * happened, at any time, so the console can say where the trail is and widen the range to it.
 */
import type { Sql } from '../store/db.ts';
import { eventSource } from './event-repository.ts';
import type { EventFilter } from './filters.ts';

export const DEFAULT_BUCKETS = 60;
export const MAX_BUCKETS = 500;

export interface Histogram {
  since: string;
  until: string;
  bucket_ms: number;
  counts: number[];
  total: number;
  /** Only when the window holds no event: occurred_at of the newest event the filters select at any time; null when none does. */
  newest?: string | null;
}

export async function eventHistogram(sql: Sql, tenant: string, filter: EventFilter & { since: string; until: string }, buckets: number): Promise<Histogram> {
  const start = Date.parse(filter.since);
  const bucketMs = Math.max(1, Math.ceil((Date.parse(filter.until) - start) / buckets));
  const { from, conds, byTarget } = eventSource(sql, tenant, filter);
  const at = byTarget ? sql`t.occurred_at` : sql`e.occurred_at`;
  const where = conds.reduce((acc, c) => sql`${acc} and ${c}`);
  const rows = await sql<{ b: number; n: number }[]>`
    select floor(extract(epoch from ${at} - ${filter.since}::timestamptz) * 1000 / ${bucketMs})::int as b, count(*)::int as n
    from ${from} where ${where} group by 1`;
  const counts = new Array<number>(buckets).fill(0);
  let total = 0;
  for (const { b, n } of rows) {
    if (b >= 0 && b < buckets) counts[b] = n;
    total += n;
  }
  const histogram: Histogram = { since: filter.since, until: filter.until, bucket_ms: bucketMs, counts, total };
  if (total === 0) histogram.newest = await newestEvent(sql, tenant, filter);
  return histogram;
}

async function newestEvent(sql: Sql, tenant: string, filter: EventFilter): Promise<string | null> {
  const { since: _since, until: _until, ...anyTime } = filter;
  const { from, conds, byTarget } = eventSource(sql, tenant, anyTime);
  const at = byTarget ? sql`t.occurred_at` : sql`e.occurred_at`;
  const where = conds.reduce((acc, c) => sql`${acc} and ${c}`);
  const [row] = await sql<{ at: Date }[]>`select ${at} as at from ${from} where ${where} order by ${at} desc limit 1`;
  return row ? row.at.toISOString() : null;
}
