/** Reads what a reversal plan needs from the trail: every captured change of the rows an actor changed in a window. */
import type { StoredEvent } from '../event/types.ts';
import { type EventRow, toStoredEvent } from '../query/event-repository.ts';
import type { Sql } from '../store/db.ts';

/** Most rows one plan touches; a wider window is refused (plan it in parts). */
export const MAX_PLANNED_ROWS = 10_000;

/**
 * The captured changes (`db.*` service records) of each row `actor` changed in [since, until), from
 * `since` on, in ledger order; `too_many` past MAX_PLANNED_ROWS. A row's later changes never
 * carry an earlier time: each waits for the previous one's commit (src/capture/capture-schema.ts).
 */
export async function reversalHistory(sql: Sql, window: { tenant: string; actor: string; since: string; until: string }): Promise<StoredEvent[] | 'too_many'> {
  const planned = await sql<{ target_type: string; target_id: string }[]>`
    select distinct t.target_type, t.target_id
    from events e join event_targets t on t.tenant_id = e.tenant_id and t.occurred_at = e.occurred_at and t.seq = e.seq
    where e.tenant_id = ${window.tenant} and e.actor_id = ${window.actor} and e.action like 'db.%'
      and e.occurred_at >= ${window.since} and e.occurred_at < ${window.until}
    limit ${MAX_PLANNED_ROWS + 1}`;
  if (planned.length > MAX_PLANNED_ROWS) return 'too_many';
  if (planned.length === 0) return [];
  const rows = await sql<EventRow[]>`
    select e.tenant_id, e.seq, e.uid, e.occurred_at, e.received_at, e.body
    from unnest(${planned.map((p) => p.target_type)}::text[], ${planned.map((p) => p.target_id)}::text[]) as r(type, id)
    join event_targets t on t.tenant_id = ${window.tenant} and t.target_type = r.type and t.target_id = r.id and t.occurred_at >= ${window.since}
    join events e on e.tenant_id = t.tenant_id and e.occurred_at = t.occurred_at and e.seq = t.seq
    where e.action like 'db.%'
    order by e.seq`;
  return rows.map(toStoredEvent);
}
