/**
 * Reading events: one page by filter with keyset pagination (no OFFSET, no COUNT), and one event by
 * uid. Every query is scoped to exactly one tenant, which callers resolve from the key first.
 */
import type { PendingQuery, Row } from 'postgres';
import type { EventBody, StoredEvent } from '../event/types.ts';
import type { Sql } from '../store/db.ts';
import { decodeCursor, encodeCursor, type Position } from './cursor.ts';
import { ACCESS_NAMESPACE, type ActionPattern, type EventQuery, type EventFilter } from './filters.ts';

export interface EventPage {
  data: StoredEvent[];
  next_cursor: string | null;
}

export interface EventRow {
  tenant_id: string;
  seq: number;
  uid: string;
  occurred_at: Date;
  received_at: Date;
  body: EventBody;
}

export type Fragment = PendingQuery<Row[]>;

export interface FindOptions {
  /** Leave out `audit_log.viewed` records received at or after this time (the reader's own). */
  hideReadsSince?: Date;
}

export async function findEvents(sql: Sql, tenant: string, query: EventQuery, options: FindOptions = {}): Promise<EventPage> {
  const since = options.hideReadsSince;
  const hidden = since ? sql`and not (e.action = 'audit_log.viewed' and e.received_at >= ${since})` : sql``;
  const { sort } = query;
  const after = query.cursor ? decodeCursor(query.cursor, sort, query.filter, tenant) : undefined;
  // Later pages of a query with relative bounds read the window its first page resolved.
  const filter = after?.window ? { ...query.filter, ...after.window } : query.filter;
  const select = (branch: EventFilter) => {
    const { from, where, order } = keysetSelection(sql, tenant, { filter: branch, sort }, { after });
    return sql`select e.tenant_id, e.seq, e.uid, e.occurred_at, e.received_at, e.body
      from ${from} where ${where} ${hidden} ${order} limit ${query.limit + 1}`;
  };
  let rows: EventRow[];
  if (filter.actionPrefix && filter.action !== undefined && filter.targetType === undefined && filter.targetId === undefined) {
    // A prefix spans several actions, which the action index cannot give in time order: each
    // action's newest (or oldest) page is read from the index, and the pages merged.
    const actions = await actionsWithPrefix(sql, tenant, filter.action);
    if (actions.length === 0) return { data: [], next_cursor: null };
    // Every branch starts after the same position (the cursor was checked against the prefix filter).
    const branches = actions.map((action) => select({ ...filter, action, actionPrefix: false }));
    const merged = branches.slice(1).reduce((acc, b) => sql`${acc} union all (${b})`, sql`(${branches[0]!})`);
    const order = sort === 'desc' ? sql`order by occurred_at desc, seq desc` : sql`order by occurred_at asc, seq asc`;
    rows = await sql<EventRow[]>`select * from (${merged}) u ${order} limit ${query.limit + 1}`;
  } else {
    rows = await sql<EventRow[]>`${select(filter)}`;
  }
  const page = rows.slice(0, query.limit);
  const last = page[page.length - 1];
  return {
    data: page.map(toStoredEvent),
    next_cursor: rows.length > query.limit && last ? encodeCursor({ occurredAt: last.occurred_at.toISOString(), seq: last.seq }, sort, filter, tenant) : null,
  };
}

/**
 * The distinct actions under `prefix` (`user` for `user.*`), by a skip scan of the action index: one
 * probe per action. The index is text_pattern_ops, so the scan compares and orders with its
 * byte-wise operators (~>~, ~<~), not the collation's.
 */
async function actionsWithPrefix(sql: Sql, tenant: string, prefix: string): Promise<string[]> {
  const like = `${escapeLike(prefix)}.%`;
  const rows = await sql<{ action: string }[]>`
    with recursive a(action) as (
      (select action from events where tenant_id = ${tenant} and action like ${like} order by action using ~<~ limit 1)
      union all
      select (select e.action from events e where e.tenant_id = ${tenant} and e.action like ${like} and e.action ~>~ a.action order by e.action using ~<~ limit 1)
      from a where a.action is not null)
    select action from a where action is not null`;
  return rows.map((r) => r.action);
}

/**
 * FROM, WHERE (filters, and the positions the page starts after and, given `upTo`, ends at) and
 * ORDER BY of one page of a query, for every reader that pages through events by keyset. Callers
 * decode a client's cursor first (decodeCursor checks it belongs to these filters).
 */
export function keysetSelection(
  sql: Sql,
  tenant: string,
  query: Pick<EventQuery, 'filter' | 'sort'>,
  range: { after?: Position | undefined; upTo?: Position | undefined } = {},
): { from: Fragment; where: Fragment; order: Fragment } {
  const { filter, sort } = query;
  const { after, upTo } = range;
  const { from, conds, byTarget: t } = eventSource(sql, tenant, filter);
  const key = t ? sql`t.occurred_at, t.seq` : sql`e.occurred_at, e.seq`;
  if (after) {
    conds.push(
      sort === 'desc'
        ? sql`(${key}) < (${after.occurredAt}::timestamptz, ${after.seq}::int8)`
        : sql`(${key}) > (${after.occurredAt}::timestamptz, ${after.seq}::int8)`,
    );
  }
  if (upTo) {
    conds.push(
      sort === 'desc'
        ? sql`(${key}) >= (${upTo.occurredAt}::timestamptz, ${upTo.seq}::int8)`
        : sql`(${key}) <= (${upTo.occurredAt}::timestamptz, ${upTo.seq}::int8)`,
    );
  }
  const where = conds.reduce((acc, c) => sql`${acc} and ${c}`);
  const order = t
    ? sort === 'desc'
      ? sql`order by t.occurred_at desc, t.seq desc`
      : sql`order by t.occurred_at asc, t.seq asc`
    : sort === 'desc'
      ? sql`order by e.occurred_at desc, e.seq desc`
      : sql`order by e.occurred_at asc, e.seq asc`;
  return { from, where, order };
}

/**
 * The rows a filter selects, as a FROM clause and WHERE conditions over `e` (events) and, when
 * filtering by target, `t` (event_targets). Filtering by target is driven from the narrow targets
 * table (its index answers the question); everything else reads events through its
 * (tenant, …, occurred_at, seq) indexes.
 */
export function eventSource(sql: Sql, tenant: string, filter: EventFilter): { from: Fragment; conds: Fragment[]; byTarget: boolean } {
  const byTarget = filter.targetType !== undefined || filter.targetId !== undefined;
  const conds: Fragment[] = [byTarget ? sql`t.tenant_id = ${tenant}` : sql`e.tenant_id = ${tenant}`, ...conditions(sql, filter)];
  if (byTarget) {
    if (filter.targetType !== undefined) conds.push(sql`t.target_type = ${filter.targetType}`);
    if (filter.targetId !== undefined) conds.push(equalsEither(sql, sql`t.target_id`, filter.targetId, filter.hashed?.targetId));
    if (filter.since) conds.push(sql`t.occurred_at >= ${filter.since}`);
    if (filter.until) conds.push(sql`t.occurred_at < ${filter.until}`);
  }
  const from = byTarget
    ? // Each target row fetches its event (a nested loop over the targets index, in order, stopping at
      // the page's limit). `offset 0` keeps the planner from flattening it into a join it may then
      // hash: after ANALYZE it misjudges the (occurred_at, seq) join, and a hash join scans every event.
      sql`event_targets t cross join lateral (
        select * from events e where e.tenant_id = t.tenant_id and e.occurred_at = t.occurred_at and e.seq = t.seq offset 0) e`
    : sql`events e`;
  return { from, conds, byTarget };
}

export async function findEventByUid(sql: Sql, uid: string): Promise<StoredEvent | undefined> {
  const rows = await sql<EventRow[]>`
    select e.tenant_id, e.seq, e.uid, e.occurred_at, e.received_at, e.body
    from ledger_leaves l join events e on e.tenant_id = l.tenant_id and e.occurred_at = l.occurred_at and e.seq = l.seq
    where l.uid = ${uid}`;
  return rows[0] ? toStoredEvent(rows[0]) : undefined;
}

/** The WHERE conditions on `events e` shared by every reader of events. */
export function conditions(sql: Sql, filter: EventFilter): Fragment[] {
  const conds: Fragment[] = [];
  if (filter.actor !== undefined) conds.push(equalsEither(sql, sql`e.actor_id`, filter.actor, filter.hashed?.actor));
  if (filter.action !== undefined) {
    conds.push(filter.actionPrefix ? sql`e.action like ${`${escapeLike(filter.action)}.%`}` : sql`e.action = ${filter.action}`);
  }
  if (filter.actionsAny !== undefined) conds.push(sql`e.action like any(${filter.actionsAny.map(likePattern)}::text[])`);
  if (filter.excludeActions !== undefined) conds.push(sql`not e.action like any(${filter.excludeActions.map(likePattern)}::text[])`);
  if (filter.kind !== undefined) {
    const access = `${escapeLike(ACCESS_NAMESPACE)}.%`;
    conds.push(filter.kind === 'access' ? sql`e.action like ${access}` : sql`e.action not like ${access}`);
  }
  if (filter.hasChanges !== undefined) {
    const count = sql`coalesce(jsonb_array_length(case when jsonb_typeof(e.body->'changes') = 'array' then e.body->'changes' end), 0)`;
    conds.push(filter.hasChanges ? sql`${count} > 0` : sql`${count} = 0`);
  }
  if (filter.outcome !== undefined) conds.push(sql`e.outcome = ${filter.outcome}`);
  if (filter.ip !== undefined) conds.push(sql`e.ip <<= ${filter.ip}::inet`);
  if (filter.since !== undefined) conds.push(sql`e.occurred_at >= ${filter.since}`);
  if (filter.until !== undefined) conds.push(sql`e.occurred_at < ${filter.until}`);
  if (filter.q !== undefined) {
    const hashedQ = filter.hashed?.q;
    conds.push(
      hashedQ === undefined
        ? sql`e.search @@ websearch_to_tsquery('simple', ${filter.q})`
        : sql`e.search @@ (websearch_to_tsquery('simple', ${filter.q}) || phraseto_tsquery('simple', ${hashedQ}))`,
    );
  }
  if (filter.narrowActions !== undefined) {
    const exact = filter.narrowActions.filter((a) => !a.prefix).map((a) => a.action);
    const likes = filter.narrowActions.filter((a) => a.prefix).map((a) => `${escapeLike(a.action)}.%`);
    conds.push(sql`(e.action = any(${exact}::text[]) or e.action like any(${likes}::text[]))`);
  }
  if (filter.narrowTargets !== undefined) {
    const types = filter.narrowTargets.map((t) => t.type);
    const ids = filter.narrowTargets.map((t) => t.id);
    conds.push(sql`exists (select 1 from event_targets x, unnest(${types}::text[], ${ids}::text[]) as n(type, id)
      where x.tenant_id = e.tenant_id and x.occurred_at = e.occurred_at and x.seq = e.seq and x.target_type = n.type and x.target_id = n.id)`);
  }
  return conds;
}

/**
 * Builds the API shape with keys in the documented order (jsonb does not keep key order). Members
 * are added one by one, without spreads: every reader and export builds one per event.
 */
export function toStoredEvent(row: EventRow): StoredEvent {
  const b = row.body;
  const event = { uid: row.uid, tenant: row.tenant_id, seq: row.seq } as StoredEvent;
  if (b.id !== undefined) event.id = b.id;
  event.action = b.action;
  event.occurred_at = row.occurred_at.toISOString();
  event.received_at = row.received_at.toISOString();
  event.actor = b.actor;
  event.targets = b.targets;
  event.outcome = b.outcome;
  if (b.reason !== undefined) event.reason = b.reason;
  event.context = b.context;
  if (b.changes !== undefined) event.changes = b.changes;
  if (b.metadata !== undefined) event.metadata = b.metadata;
  if (b.source !== undefined) event.source = b.source;
  return event;
}

/** The LIKE pattern of an action pattern (exact patterns too, so a list is one `like any`). */
function likePattern(p: ActionPattern): string {
  const value = escapeLike(p.value);
  return p.match === 'exact' ? value : p.match === 'prefix' ? `${value}.%` : `%.${value}`;
}

/** Escapes LIKE's wildcards (and its escape character) in a literal. */
export function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** `column` equals the value or, when there is one, its keyed-hash form (filters' `hashed`). */
function equalsEither(sql: Sql, column: Fragment, value: string, hashed: string | undefined): Fragment {
  return hashed === undefined ? sql`${column} = ${value}` : sql`${column} in (${value}, ${hashed})`;
}
