/**
 * The tail of a rollup answer: the events committed after the rollup follower's cursor, which the
 * rollups do not hold yet. They are read the way the follower reads them, by ledger position
 * (`ledger_leaves` from the cursor on, then each event by its key) with targets taken from the
 * body, never from `event_targets` by target, whose index leads the planner through every monthly
 * partition of a large tenant. The tail's span of `occurred_at` is read beforehand and bounds the
 * event lookups (ledger-range.ts); an empty tail (the follower caught up) touches no partition.
 */
import type { Fragment } from '../query/event-repository.ts';
import { conditions } from '../query/event-repository.ts';
import type { EventFilter } from '../query/filters.ts';
import { type LedgerRange, ledgerRange, rangeEvents } from '../query/ledger-range.ts';
import type { Sql } from '../store/db.ts';
import { ROLLUP_FOLLOWER } from './rollups.ts';

/**
 * The tail of the tenant's events within the filter's window, or null when it holds none. Read in
 * the snapshot the rollups are read in (a repeatable-read transaction), so every event is counted
 * exactly once: by the rollups or by the tail.
 */
export async function readTail(sql: Sql, tenant: string, filter: EventFilter): Promise<LedgerRange | null> {
  const [cursor] = await sql<{ next_seq: number }[]>`
    select coalesce(max(next_seq), 0) as next_seq from follower_cursors where follower = ${ROLLUP_FOLLOWER} and tenant_id = ${tenant}`;
  let window = sql``;
  if (filter.since !== undefined) window = sql`${window} and l.occurred_at >= ${filter.since}`;
  if (filter.until !== undefined) window = sql`${window} and l.occurred_at < ${filter.until}`;
  return ledgerRange(sql, tenant, Number(cursor!.next_seq), undefined, window);
}

/**
 * Rows of (hour, action, actor_id, ip or target, events) of the tail's events the filter selects,
 * the shape of the rollups' rows. With `byTarget`, one row per target named in the body (an event
 * naming one target twice counts once for it, as `event_targets` answers it). No rows for no tail.
 */
export function tailUnits(sql: Sql, tenant: string, filter: EventFilter, byTarget: boolean, tail: LedgerRange | null): Fragment {
  if (tail === null)
    return sql`select null::timestamptz as hour, null::text as action, null::text as actor_id, null::inet as ip,
      null::text as target_type, null::text as target_id, 0::int8 as events where false`;
  const range = rangeEvents(sql, tenant, tail, sql`e.seq, e.occurred_at, e.action, e.actor_id, e.outcome, e.ip, e.body`);
  const conds: Fragment[] = [range.where, ...conditions(sql, filter)];
  if (byTarget && filter.targetType !== undefined) conds.push(sql`t->>'type' = ${filter.targetType}`);
  if (byTarget && filter.targetId !== undefined) conds.push(sql`t->>'id' = ${filter.targetId}`);
  const where = conds.reduce((acc, c) => sql`${acc} and ${c}`);
  const hour = sql`date_trunc('hour', e.occurred_at, 'UTC')`;
  return byTarget
    ? sql`select ${hour} as hour, e.action, e.actor_id, null::inet as ip, t->>'type' as target_type, t->>'id' as target_id, count(distinct e.seq) as events
        from ${range.from} cross join lateral jsonb_array_elements(e.body->'targets') t
        where ${where} group by 1, 2, 3, 5, 6`
    : sql`select ${hour} as hour, e.action, e.actor_id, e.ip, null::text as target_type, null::text as target_id, 1::int8 as events
        from ${range.from} where ${where}`;
}
