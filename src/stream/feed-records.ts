/**
 * A page of a tenant's feed (src/query/feed.ts: ledger index order = commit order) as the records of
 * a destination's format, written by PostgreSQL: the stream worker's path for destinations that read
 * only records (webhook, Datadog) in a format that can be assembled (JSON Lines). The page is one
 * query that returns one text, as the exports' pages (src/export/assembled-pages.ts): no row objects,
 * no JSON.parse of bodies, no JSON.stringify in Node, which made delivery CPU-bound at about 30,000
 * events/s on two cores.
 *
 * The destination's filter is applied in SQL (`filterCondition`, the same selection as `matcher`
 * in stream-filter.ts; a test holds them equal), and purged payloads are skipped, as `readFeed` skips them.
 * The records are byte for byte what the format's own `record` writes (a test holds them equal).
 */
import type { AssembledRecords } from '../export/assembled-pages.ts';
import type { Fragment } from '../query/event-repository.ts';
import type { Sql } from '../store/db.ts';
import { filterCondition } from './stream-filter.ts';
import type { StreamFilter } from './stream-store.ts';

export interface FeedRecords {
  /** The selected events' records, concatenated, each with its terminator. */
  records: Buffer;
  /** How many events were selected. */
  events: number;
  /** Where the next page starts: past every leaf read, selected or not; `from` when there was none. */
  next: number;
}

export async function readFeedRecords(
  sql: Sql,
  tenant: string,
  from: number,
  limit: number,
  assembled: AssembledRecords,
  filter: StreamFilter,
  /** More SQL over `e` an event must match (a saved search's filter). */
  where?: Fragment,
): Promise<FeedRecords> {
  // Aggregating an ordered subquery keeps its order; string_agg and count skip the NULL records of
  // purged or unselected events, max(seq) still counts their leaves.
  const [row] = await sql`
    select string_agg(r, '') as records, count(r)::int4 as events, max(leaf_seq)::int8 as last
    from (
      select l.seq as leaf_seq, case when e.body is not null and ${filterCondition(sql, filter)} and ${where ?? sql`true`} then ${assembled.record(sql, tenant)} end as r
      from ledger_leaves l
      left join events e on e.tenant_id = l.tenant_id and e.occurred_at = l.occurred_at and e.seq = l.seq
      ${assembled.lateral?.(sql) ?? sql``}
      where l.tenant_id = ${tenant} and l.seq >= ${from}
      order by l.seq
      limit ${limit}
    ) p`.raw();
  const [records, events, last] = row as unknown as [Buffer | null, Buffer, Buffer | null];
  return {
    records: records ? assembled.finish(records) : Buffer.alloc(0),
    events: Number(events.toString('latin1')),
    next: last ? Number(last.toString('latin1')) + 1 : from,
  };
}
