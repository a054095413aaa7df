/**
 * The rollups behind `GET /v1/stats` (migrations 0090, 0094), kept by a committed-events follower:
 * each range of a tenant's committed events is added to `stat_rollups` (by hour, action, outcome,
 * actor, address), `stat_target_rollups` (the same per target) and the per-target daily tables
 * (target-days.ts) in the transaction that moves the follower's cursor past it, so every event is
 * counted exactly once. Events whose payload was purged before the follower reached them are not
 * counted; counts of events purged later stay.
 */
import type { FollowerHandler } from '../query/committed-follower.ts';
import { ledgerRange, rangeEvents } from '../query/ledger-range.ts';
import type { Sql, TxSql } from '../store/db.ts';

/** The rollup follower's name in `follower_cursors`. */
export const ROLLUP_FOLLOWER = 'rollups';

export const rollupHandler: FollowerHandler = {
  name: ROLLUP_FOLLOWER,
  async apply(tx: TxSql, tenant: string, from: number, to: number): Promise<void> {
    // The range's events, read once by ledger position (ledger-range.ts). Each event's targets come
    // from its body: event_targets is indexed by target, not by event, so a lookup there per event scans.
    const sql = tx as unknown as Sql;
    const range = await ledgerRange(sql, tenant, from, to);
    if (range === null) return;
    const events = rangeEvents(sql, tenant, range, sql`e.seq, e.occurred_at, e.action, e.outcome, e.actor_id, e.ip, e.body`);
    await sql`
      create temp table rollup_range on commit drop as
      select e.seq, date_trunc('hour', e.occurred_at, 'UTC') as hour, e.action, e.outcome, e.actor_id, e.ip, e.body->'targets' as targets
      from ${events.from} where ${events.where}`;
    await tx`
      insert into stat_rollups (tenant_id, hour, action, outcome, actor_id, ip, events)
      select ${tenant}, hour, action, outcome, actor_id, ip, count(*)
      from rollup_range group by 2, 3, 4, 5, 6
      on conflict (tenant_id, hour, action, outcome, actor_id, ip) do update set events = stat_rollups.events + excluded.events`;
    // An event naming one target twice counts once for it, as the events table answers it (stats.ts).
    await tx`
      create temp table rollup_targets on commit drop as
      select t->>'type' as target_type, t->>'id' as target_id, r.hour, r.action, r.outcome, r.actor_id, count(distinct r.seq) as events
      from rollup_range r cross join lateral jsonb_array_elements(r.targets) t
      group by 1, 2, 3, 4, 5, 6`;
    await tx`
      insert into stat_target_rollups (tenant_id, target_type, target_id, hour, action, outcome, actor_id, events)
      select ${tenant}, target_type, target_id, hour, action, outcome, actor_id, events from rollup_targets
      on conflict (tenant_id, target_type, target_id, hour, action, outcome, actor_id) do update set events = stat_target_rollups.events + excluded.events`;
    // Per target and day: an actor new to the day (absent before this statement) adds one to its actors.
    await tx`
      with added as (
        select target_type, target_id, (hour at time zone 'UTC')::date as day, actor_id, sum(events) as events
        from rollup_targets group by 1, 2, 3, 4
      ), fresh as (
        select a.*, not exists (
          select 1 from stat_target_day_actors d
          where d.tenant_id = ${tenant} and d.target_type = a.target_type and d.target_id = a.target_id and d.day = a.day and d.actor_id = a.actor_id
        ) as new_actor
        from added a
      ), actors as (
        insert into stat_target_day_actors (tenant_id, target_type, target_id, day, actor_id, events)
        select ${tenant}, target_type, target_id, day, actor_id, events from fresh
        on conflict (tenant_id, target_type, target_id, day, actor_id) do update set events = stat_target_day_actors.events + excluded.events
      )
      insert into stat_target_days (tenant_id, target_type, target_id, day, events, actors)
      select ${tenant}, target_type, target_id, day, sum(events), count(*) filter (where new_actor)
      from fresh group by 2, 3, 4
      on conflict (tenant_id, target_type, target_id, day) do update
        set events = stat_target_days.events + excluded.events, actors = stat_target_days.actors + excluded.actors`;
  },
};
