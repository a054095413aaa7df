/**
 * "Who acted on target X, by day": `GET /v1/stats?group_by=day` filtered to one target and whole
 * UTC days only, answered from the per-target daily rollups (migration 0094) rather than from every
 * hour's rows. A day's events and distinct actors are one row; the distinct actors over the whole
 * window take one index probe per actor of the target (a loose index scan). The events after the
 * rollup follower's cursor (`live`) are added in the same statement: their actors count for a day
 * only when the rollups do not hold them for that day already.
 */
import type { Fragment } from '../query/event-repository.ts';
import type { EventFilter } from '../query/filters.ts';
import type { Sql } from '../store/db.ts';
import type { Stats } from './stats.ts';

/** Filters the daily target rollups answer besides the target: the window. */
const WINDOW_ONLY = new Set(['targetType', 'targetId', 'since', 'until', 'relative']);

/** Whether the daily target rollups answer this question exactly. */
export function targetDaysAnswer(filter: EventFilter, groupBy: string): boolean {
  const wholeDay = (t: string | undefined) => t === undefined || Date.parse(t) % 86_400_000 === 0;
  return (
    groupBy === 'day' &&
    filter.targetType !== undefined &&
    filter.targetId !== undefined &&
    Object.entries(filter).every(([k, v]) => v === undefined || WINDOW_ONLY.has(k)) &&
    wholeDay(filter.since) &&
    wholeDay(filter.until)
  );
}

/**
 * Per day the events and distinct actors on the filter's target, and both over the window.
 * `live`: rows of (hour, actor_id, events) for the target from the events after the follower's cursor.
 */
export async function targetDayStats(sql: Sql, tenant: string, filter: EventFilter, live: Fragment): Promise<Stats> {
  const key = (t: string) =>
    sql`${sql(t)}.tenant_id = ${tenant} and ${sql(t)}.target_type = ${filter.targetType!} and ${sql(t)}.target_id = ${filter.targetId!}`;
  const window = (t: string) => {
    const conds: Fragment[] = [key(t)];
    if (filter.since !== undefined) conds.push(sql`${sql(t)}.day >= (${filter.since}::timestamptz at time zone 'UTC')::date`);
    if (filter.until !== undefined) conds.push(sql`${sql(t)}.day < (${filter.until}::timestamptz at time zone 'UTC')::date`);
    return conds.reduce((acc, c) => sql`${acc} and ${c}`);
  };
  const rows = await sql<{ k: string | null; events: number; actors: number; total: boolean }[]>`
    with recursive live as materialized (
      select (hour at time zone 'UTC')::date as day, actor_id, sum(events)::int8 as events from (${live}) u group by 1, 2
    ), fresh as (
      select l.day, count(*)::int8 as actors from live l
      where not exists (select 1 from stat_target_day_actors a where ${key('a')} and a.day = l.day and a.actor_id = l.actor_id)
      group by 1
    ), days as (
      select day, sum(events)::int8 as events, sum(actors)::int8 as actors from (
        select d.day, d.events, d.actors from stat_target_days d where ${window('d')}
        union all select day, events, 0 from live
        union all select day, 0, actors from fresh
      ) x group by day
    ), rolled_actors (actor_id) as (
      (select a.actor_id from stat_target_day_actors a where ${window('a')} order by a.actor_id limit 1)
      union all
      select (select a.actor_id from stat_target_day_actors a where ${window('a')} and a.actor_id > r.actor_id order by a.actor_id limit 1)
      from rolled_actors r where r.actor_id is not null
    )
    select to_char(day, 'YYYY-MM-DD') as k, events, actors, false as total from days
    union all
    select null, coalesce((select sum(events) from days), 0)::int8,
      (select count(*) from (select actor_id from rolled_actors where actor_id is not null union select actor_id from live) a)::int8, true
    order by total, k`;
  const total = rows.find((r) => r.total)!;
  return {
    group_by: 'day',
    source: 'rollups',
    groups: rows.filter((r) => !r.total).map((r) => ({ key: r.k, events: r.events, actors: r.actors })),
    total: { events: total.events, actors: total.actors },
  };
}
