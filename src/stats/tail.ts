/**
 * The tail of a rollup answer: the events committed after the rollup follower's cursor, which the
 * rollups do not hold yet. They are read the way the follower reads them, by ledger position
 * (`ledger_leaves` from the cursor on, then each event by its key) with targets taken from the
 * body, never from `event_targets` by target, whose index leads the planner through every monthly
 * partition of a large tenant. The tail's first and last `occurred_at` are read beforehand and bound
 * the event lookup, so the planner prunes `events` to the partitions the tail lies in; an empty tail
 * (the follower caught up) touches no partition at all.
 */
import type { Fragment } from '../query/event-repository.ts';
import { conditions } from '../query/event-repository.ts';
import type { EventFilter } from '../query/filters.ts';
import type { Sql } from '../store/db.ts';
import { ROLLUP_FOLLOWER } from './rollups.ts';

/** The ledger positions and `occurred_at` span of the tail's events inside the filter's window. */
export interface Tail {
  from: number;
  to: number;
  /** As PostgreSQL prints them: a JavaScript Date would drop the microseconds. */
  first: string;
  last: string;
}

/**
 * The tail of the tenant's events within the filter's window, or null when it holds none. Read in
 * the snapshot the rollups are read in (a repeatable-read transaction), so every event is counted
 * exactly once: by the rollups or by the tail.
 */
export async function readTail(sql: Sql, tenant: string, filter: EventFilter): Promise<Tail | null> {
  let window = sql``;
  if (filter.since !== undefined) window = sql`${window} and l.occurred_at >= ${filter.since}`;
  if (filter.until !== undefined) window = sql`${window} and l.occurred_at < ${filter.until}`;
  const [row] = await sql<{ from: number; to: number | null; first: string | null; last: string | null }[]>`
    select c.next_seq as from, max(l.seq) as to, min(l.occurred_at)::text as first, max(l.occurred_at)::text as last
    from (select coalesce(max(next_seq), 0) as next_seq from follower_cursors where follower = ${ROLLUP_FOLLOWER} and tenant_id = ${tenant}) c
    left join ledger_leaves l on l.tenant_id = ${tenant} and l.seq >= c.next_seq ${window}
    group by c.next_seq`;
  if (!row || row.to === null) return null;
  return { from: Number(row.from), to: Number(row.to), first: row.first!, last: row.last! };
}

/**
 * Rows of (hour, action, actor_id, ip or target, events) of the tail's events the filter selects,
 * the shape of the rollups' rows. With `byTarget`, one row per target named in the body (an event
 * naming one target twice counts once for it, as `event_targets` answers it). No rows for no tail.
 */
export function tailUnits(sql: Sql, tenant: string, filter: EventFilter, byTarget: boolean, tail: Tail | null): Fragment {
  if (tail === null)
    return sql`select null::timestamptz as hour, null::text as action, null::text as actor_id, null::inet as ip,
      null::text as target_type, null::text as target_id, 0::int8 as events where false`;
  const conds: Fragment[] = [sql`l.tenant_id = ${tenant}`, sql`l.seq >= ${tail.from}`, sql`l.seq <= ${tail.to}`, ...conditions(sql, filter)];
  if (byTarget && filter.targetType !== undefined) conds.push(sql`t->>'type' = ${filter.targetType}`);
  if (byTarget && filter.targetId !== undefined) conds.push(sql`t->>'id' = ${filter.targetId}`);
  const where = conds.reduce((acc, c) => sql`${acc} and ${c}`);
  // One key lookup per leaf (kept apart by `limit 1`, so the planner never trades it for a scan of
  // the partition), in the partitions the tail's span selects.
  const from = sql`ledger_leaves l cross join lateral (
    select e.seq, e.occurred_at, e.action, e.actor_id, e.outcome, e.ip, e.body from events e
    where e.tenant_id = l.tenant_id and e.occurred_at = l.occurred_at and e.seq = l.seq
      and e.occurred_at >= ${tail.first}::timestamptz and e.occurred_at <= ${tail.last}::timestamptz
    limit 1) e`;
  const hour = sql`date_trunc('hour', e.occurred_at, 'UTC')`;
  return byTarget
    ? sql`select ${hour} as hour, e.action, e.actor_id, null::inet as ip, t->>'type' as target_type, t->>'id' as target_id, count(distinct e.seq) as events
        from ${from} cross join lateral jsonb_array_elements(e.body->'targets') t
        where ${where} group by 1, 2, 3, 5, 6`
    : sql`select ${hour} as hour, e.action, e.actor_id, e.ip, null::text as target_type, null::text as target_id, 1::int8 as events
        from ${from} where ${where}`;
}
