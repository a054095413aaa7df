/**
 * The self-audit's check of what the read API answers from and the bundle does not carry: the
 * columns of each event row that ingest derives from its committed body (action, actor, outcome,
 * ip, occurred_at, the client id on its leaf, the target rows in event_targets) and the ones it
 * copies from its leaf (uid, received_at). Searches filter on them and reads serve uid and
 * received_at from them, so a row edited behind the service's back would answer differently from
 * what the ledger commits to. One statement per tenant reads each event row once; it returns only
 * the rows that disagree.
 */
import type { Sql } from '../store/db.ts';
import type { Finding } from '../verify/report.ts';

/** Findings kept per tenant: the first one names the index, the count says how far it goes. */
const MAX_FINDINGS = 1000;

/** Where each column's expected value comes from, for the finding's text. */
const SOURCE: Record<string, string> = {
  uid: 'its leaf',
  received_at: 'its leaf',
  client_id: 'its committed body (id)',
  event_targets: 'its committed body (targets)',
};

export async function checkDerivedColumns(sql: Sql, tenant: string, findings: Finding[]): Promise<void> {
  // Each cast is guarded by pg_input_is_valid inside a CASE (OR does not fix the order in which
  // SQL evaluates), so a body no cast can read is a mismatch, not a failed audit.
  const rows = await sql<{ seq: number; col: string }[]>`
    with e as (
      select e.seq, e.occurred_at, e.body->'targets' as targets,
        case
          when l.seq is null then null
          when e.uid <> l.uid then 'uid'
          when e.received_at <> l.received_at then 'received_at'
          when l.client_id is distinct from e.body->>'id' then 'client_id'
          when e.action is distinct from e.body->>'action' then 'action'
          when e.actor_type is distinct from e.body->'actor'->>'type' then 'actor_type'
          when e.actor_id is distinct from e.body->'actor'->>'id' then 'actor_id'
          when e.outcome is distinct from e.body->>'outcome' then 'outcome'
          when case when pg_input_is_valid(e.body->>'occurred_at', 'timestamptz')
                    then e.occurred_at <> (e.body->>'occurred_at')::timestamptz else true end then 'occurred_at'
          when case when e.body->'context'->>'ip' is null then e.ip is not null
                    when pg_input_is_valid(e.body->'context'->>'ip', 'inet')
                    then e.ip is distinct from (e.body->'context'->>'ip')::inet else true end then 'ip'
        end as col
      from events e
      left join ledger_leaves l on l.tenant_id = e.tenant_id and l.seq = e.seq and l.occurred_at = e.occurred_at
      where e.tenant_id = ${tenant}
    ), pairs as (
      select e.seq, e.occurred_at, t->>'type' as type, t->>'id' as id, 1 as wanted, 0 as stored
      from e cross join lateral jsonb_array_elements(case when jsonb_typeof(e.targets) = 'array' then e.targets else '[]' end) as t
      union all
      -- Target rows of an event row that is gone belong to the missing payload the other checks name.
      select t.seq, t.occurred_at, t.target_type, t.target_id, 0, 1
      from event_targets t join e on e.seq = t.seq and e.occurred_at = t.occurred_at where t.tenant_id = ${tenant}
    ), bad_targets as (
      -- Ingest stores each distinct target of the body once, with the event's occurred_at.
      select distinct seq from pairs group by seq, occurred_at, type, id having sum(stored) <> max(wanted)
    )
    select seq, col, 0 as rank from e where col is not null
    union all
    select seq, 'event_targets', 1 from bad_targets
    order by seq, rank limit ${MAX_FINDINGS}`;
  const named = new Set<number>();
  for (const row of rows) {
    const seq = Number(row.seq);
    if (named.has(seq)) continue;
    named.add(seq);
    findings.push({
      kind: 'modified',
      index: seq,
      line: 0,
      detail: `the event's ${row.col} column does not match ${SOURCE[row.col] ?? 'its committed body'}`,
    });
  }
}
