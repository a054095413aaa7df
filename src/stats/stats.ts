/**
 * Aggregates of a tenant's events (`GET /v1/stats`): event counts and distinct actors per actor,
 * action, target, address, day or hour (UTC), under the filters of `GET /v1/events`.
 *
 * Answered from the hourly rollups (rollups.ts) when the filters are ones they keep: whole hours,
 * actor, action, outcome, and either an address or a target. The rollups hold the events up to the
 * rollup follower's cursor; the events after it (the few committed since its last pass, tail.ts)
 * are read by ledger position in the same snapshot, so the answer is exact. Any other
 * filter (full text, an address with a target, an instant inside an hour) is answered from the
 * events table.
 */
import { type ErrorDetail, TrailproofError } from '../errors.ts';
import type { Fragment } from '../query/event-repository.ts';
import { conditions, escapeLike } from '../query/event-repository.ts';
import { parseEventQuery, type EventFilter } from '../query/filters.ts';
import type { Sql } from '../store/db.ts';
import { readTail, tailUnits } from './tail.ts';
import { targetDayStats, targetDaysAnswer } from './target-days.ts';

export const GROUP_BY = ['actor', 'action', 'target', 'ip', 'day', 'hour'] as const;
export type GroupBy = (typeof GROUP_BY)[number];

export const DEFAULT_GROUPS = 100;
export const MAX_GROUPS = 1000;

export interface StatsQuery {
  groupBy: GroupBy;
  filter: EventFilter;
  /** Groups returned at most, the largest first; day and hour return every bucket, in time order. */
  limit: number;
  tenant?: string;
}

export interface StatsGroup {
  /** The actor id, action, address, day (`2026-01-31`), hour (`2026-01-31T13:00:00Z`) or `type:id` of a target. */
  key: string | null;
  target_type?: string;
  target_id?: string;
  events: number;
  actors: number;
}

export interface Stats {
  group_by: GroupBy;
  /** Where the answer came from: the hourly rollups (with the events after them) or the events table. */
  source: 'rollups' | 'events';
  groups: StatsGroup[];
  /** Over every group, not only those returned: distinct actors are not the sum of the groups'. */
  total: { events: number; actors: number };
}

/** Parses the parameters of `GET /v1/stats`: `group_by`, the event filters, and `limit`. */
export function parseStatsQuery(params: Record<string, unknown>): StatsQuery {
  const { group_by: groupBy, ...rest } = params;
  const errors: ErrorDetail[] = [];
  for (const name of ['sort', 'cursor'] as const) {
    if (rest[name] !== undefined) errors.push({ pointer: `/${name}`, code: 'unknown_field', message: `unknown parameter "${name}"` });
  }
  if (groupBy === undefined || groupBy === '') errors.push({ pointer: '/group_by', code: 'required', message: 'group_by is required' });
  else if (typeof groupBy !== 'string' || !(GROUP_BY as readonly string[]).includes(groupBy))
    errors.push({ pointer: '/group_by', code: 'invalid_enum', message: `group_by must be one of ${GROUP_BY.join(', ')}` });
  if (errors.length > 0) throw new TrailproofError('QUERY_INVALID', errors.map((e) => e.message).join('; '), { details: errors });
  const query = parseEventQuery(rest);
  return {
    groupBy: groupBy as GroupBy,
    filter: query.filter,
    limit: rest.limit === undefined ? DEFAULT_GROUPS : query.limit,
    ...(query.tenant ? { tenant: query.tenant } : {}),
  };
}

export async function eventStats(sql: Sql, tenant: string, query: StatsQuery): Promise<Stats> {
  const { groupBy, filter } = query;
  const byTarget = groupBy === 'target' || filter.targetType !== undefined || filter.targetId !== undefined;
  if (!rollupsAnswer(filter, groupBy, byTarget)) return aggregate(sql, query, eventUnits(sql, tenant, filter, byTarget), 'events');
  // The rollups and the tail after their cursor, read in one snapshot: each event counts once.
  return sql.begin('isolation level repeatable read, read only', async (tx) => {
    const snapshot = tx as unknown as Sql;
    const tail = tailUnits(snapshot, tenant, filter, byTarget, await readTail(snapshot, tenant, filter));
    if (targetDaysAnswer(filter, groupBy)) return targetDayStats(snapshot, tenant, filter, tail);
    return aggregate(snapshot, query, sql`${rollupUnits(snapshot, tenant, filter, byTarget)} union all ${tail}`, 'rollups');
  });
}

/** Groups rows of (hour, action, actor_id, ip, target, events) by the question's key, with the total over all groups. */
async function aggregate(sql: Sql, query: StatsQuery, units: Fragment, source: Stats['source']): Promise<Stats> {
  const { groupBy } = query;
  const key = keyOf(sql, groupBy);
  const time = groupBy === 'day' || groupBy === 'hour';
  const order = time ? sql`order by 1` : sql`order by events desc, 1`;
  const limit = time ? sql`` : sql`limit ${query.limit}`;
  const rows = await sql<{ k: string | null; tt: string | null; ti: string | null; events: number; actors: number; total: boolean }[]>`
    with u as materialized (${units})
    select * from (
      select ${key.select}, sum(events)::int8 as events, count(distinct actor_id)::int8 as actors, false as total
      from u group by ${key.group} ${order} ${limit}) g
    union all
    select null, null, null, coalesce(sum(events), 0)::int8, count(distinct actor_id)::int8, true from u`;
  const total = rows.find((r) => r.total)!;
  return {
    group_by: groupBy,
    source,
    groups: rows
      .filter((r) => !r.total)
      .map((r) =>
        groupBy === 'target'
          ? { key: `${r.tt}:${r.ti}`, target_type: r.tt!, target_id: r.ti!, events: r.events, actors: r.actors }
          : { key: r.k, events: r.events, actors: r.actors },
      ),
    total: { events: total.events, actors: total.actors },
  };
}

/** Filters the hourly rollups keep; any other (full text, kinds, viewer narrowing, redaction) is read from events. */
const ROLLUP_FILTERS = new Set(['actor', 'action', 'actionPrefix', 'outcome', 'ip', 'targetType', 'targetId', 'since', 'until', 'relative']);

/** Whether the rollups keep what the filters ask: whole hours, only kept filters, no address beside a target. */
function rollupsAnswer(filter: EventFilter, groupBy: GroupBy, byTarget: boolean): boolean {
  const wholeHour = (t: string | undefined) => t === undefined || Date.parse(t) % 3_600_000 === 0;
  if (!Object.entries(filter).every(([k, v]) => v === undefined || ROLLUP_FILTERS.has(k))) return false;
  if (byTarget && (filter.ip !== undefined || groupBy === 'ip')) return false;
  return wholeHour(filter.since) && wholeHour(filter.until);
}

/** Rows of (hour, action, actor_id, ip or target, events) from the rollups: the events up to the follower's cursor. */
function rollupUnits(sql: Sql, tenant: string, filter: EventFilter, byTarget: boolean): Fragment {
  const conds: Fragment[] = [sql`r.tenant_id = ${tenant}`];
  if (filter.actor !== undefined) conds.push(sql`r.actor_id = ${filter.actor}`);
  if (filter.action !== undefined) conds.push(filter.actionPrefix ? sql`r.action like ${`${escapeLike(filter.action)}.%`}` : sql`r.action = ${filter.action}`);
  if (filter.outcome !== undefined) conds.push(sql`r.outcome = ${filter.outcome}`);
  if (filter.since !== undefined) conds.push(sql`r.hour >= ${filter.since}`);
  if (filter.until !== undefined) conds.push(sql`r.hour < ${filter.until}`);
  if (byTarget) {
    if (filter.targetType !== undefined) conds.push(sql`r.target_type = ${filter.targetType}`);
    if (filter.targetId !== undefined) conds.push(sql`r.target_id = ${filter.targetId}`);
  } else if (filter.ip !== undefined) conds.push(sql`r.ip <<= ${filter.ip}::inet`);
  const where = conds.reduce((acc, c) => sql`${acc} and ${c}`);
  return byTarget
    ? sql`select r.hour, r.action, r.actor_id, null::inet as ip, r.target_type, r.target_id, r.events from stat_target_rollups r where ${where}`
    : sql`select r.hour, r.action, r.actor_id, r.ip, null::text as target_type, null::text as target_id, r.events from stat_rollups r where ${where}`;
}

/** The same rows from the events table (with event_targets). */
function eventUnits(sql: Sql, tenant: string, filter: EventFilter, byTarget: boolean): Fragment {
  const conds: Fragment[] = [sql`e.tenant_id = ${tenant}`, ...conditions(sql, filter)];
  if (filter.targetType !== undefined) conds.push(sql`t.target_type = ${filter.targetType}`);
  if (filter.targetId !== undefined) conds.push(sql`t.target_id = ${filter.targetId}`);
  const where = conds.reduce((acc, c) => sql`${acc} and ${c}`);
  const from = sql`events e`;
  const hour = sql`date_trunc('hour', e.occurred_at, 'UTC')`;
  return byTarget
    ? sql`select ${hour} as hour, e.action, e.actor_id, null::inet as ip, t.target_type, t.target_id, count(distinct e.seq) as events
        from ${from} join event_targets t on t.tenant_id = e.tenant_id and t.occurred_at = e.occurred_at and t.seq = e.seq
        where ${where} group by 1, 2, 3, 5, 6`
    : sql`select ${hour} as hour, e.action, e.actor_id, e.ip, null::text as target_type, null::text as target_id, 1::int8 as events
        from ${from} where ${where}`;
}

function keyOf(sql: Sql, groupBy: GroupBy): { select: Fragment; group: Fragment } {
  const columns: Record<GroupBy, Fragment> = {
    actor: sql`actor_id as k, null as tt, null as ti`,
    action: sql`action as k, null as tt, null as ti`,
    ip: sql`host(ip) as k, null as tt, null as ti`,
    day: sql`to_char(hour at time zone 'UTC', 'YYYY-MM-DD') as k, null as tt, null as ti`,
    hour: sql`to_char(hour at time zone 'UTC', 'YYYY-MM-DD"T"HH24":00:00Z"') as k, null as tt, null as ti`,
    target: sql`null as k, target_type as tt, target_id as ti`,
  };
  return { select: columns[groupBy], group: groupBy === 'target' ? sql`2, 3` : sql`1` };
}
