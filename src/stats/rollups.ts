/**
 * The hourly rollups behind `GET /v1/stats` (migration 0090), kept by a committed-events follower:
 * each range of a tenant's committed events is added to `stat_rollups` (by hour, action, outcome,
 * actor, address) and `stat_target_rollups` (the same per target) in the transaction that moves the
 * follower's cursor past it, so every event is counted exactly once. Events whose payload was purged
 * before the follower reached them are not counted; counts of events purged later stay.
 */
import type { FollowerHandler } from '../query/committed-follower.ts';
import type { TxSql } from '../store/db.ts';

/** The rollup follower's name in `follower_cursors`. */
export const ROLLUP_FOLLOWER = 'rollups';

export const rollupHandler: FollowerHandler = {
  name: ROLLUP_FOLLOWER,
  async apply(tx: TxSql, tenant: string, from: number, to: number): Promise<void> {
    const leaves = tx`ledger_leaves l join events e on e.tenant_id = l.tenant_id and e.occurred_at = l.occurred_at and e.seq = l.seq`;
    const range = tx`l.tenant_id = ${tenant} and l.seq >= ${from} and l.seq < ${to}`;
    await tx`
      insert into stat_rollups (tenant_id, hour, action, outcome, actor_id, ip, events)
      select ${tenant}, date_trunc('hour', e.occurred_at, 'UTC'), e.action, e.outcome, e.actor_id, e.ip, count(*)
      from ${leaves} where ${range}
      group by 2, 3, 4, 5, 6
      on conflict (tenant_id, hour, action, outcome, actor_id, ip) do update set events = stat_rollups.events + excluded.events`;
    // An event naming one target twice counts once for it, as the events table answers it (stats.ts).
    await tx`
      insert into stat_target_rollups (tenant_id, target_type, target_id, hour, action, outcome, actor_id, events)
      select ${tenant}, t.target_type, t.target_id, date_trunc('hour', e.occurred_at, 'UTC'), e.action, e.outcome, e.actor_id, count(distinct e.seq)
      from ${leaves} join event_targets t on t.tenant_id = e.tenant_id and t.occurred_at = e.occurred_at and t.seq = e.seq
      where ${range}
      group by 2, 3, 4, 5, 6, 7
      on conflict (tenant_id, target_type, target_id, hour, action, outcome, actor_id) do update set events = stat_target_rollups.events + excluded.events`;
  },
};
