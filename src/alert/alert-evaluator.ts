/**
 * Evaluates a tenant's alert rules as its events commit: a committed-events follower handler
 * (src/query/committed-follower.ts), so each range of events is matched once against every enabled
 * rule, never by rescanning the table, and the rules' state (counts per window and group, values
 * seen per actor, the last matching event) and the firings it causes commit with the cursor. A
 * restart or a racing process therefore neither loses nor repeats a firing; the unique key (rule,
 * group, window) of `alert_firings` holds that even against a replayed range.
 *
 * - threshold: events per group in tumbling windows of `occurred_at`; fires when a window's count
 *   reaches `count` (once: only the range that crosses it fires).
 * - first_seen: fires when an actor is seen with a value (address, user agent, location) it was not
 *   seen with before; an actor's very first value is learned without firing.
 * - absence: the follower notes when a matching event last arrived; `fireAbsences` (on a timer)
 *   fires once per silence longer than the period, only for tenants the follower has caught up on.
 *
 * A cooldown suppresses a firing of the same rule and group whose window lies within the cooldown
 * of an earlier firing's.
 */
import type { FollowerHandler } from '../query/committed-follower.ts';
import { conditions, type Fragment } from '../query/event-repository.ts';
import type { EventFilter } from '../query/filters.ts';
import { ledgerRange, rangeEvents } from '../query/ledger-range.ts';
import { eventFilterOf, type SavedFilter } from '../query/saved-searches.ts';
import type { Sql, TxSql } from '../store/db.ts';
import type { AlertRuleRow, RuleParams } from './alert-rules.ts';
import { outsideHoursCondition } from './outside-hours.ts';

/** The alert follower's name in `follower_cursors`. */
export const ALERT_FOLLOWER = 'alerts';

type Rule = Pick<AlertRuleRow, 'id' | 'tenant_id' | 'name' | 'kind' | 'params' | 'outside_hours' | 'cooldown_seconds'> & { watched: SavedFilter };

export const alertHandler: FollowerHandler = {
  name: ALERT_FOLLOWER,
  async apply(tx: TxSql, tenant: string, from: number, to: number): Promise<void> {
    const rules = await tx<Rule[]>`
      select r.id, r.tenant_id, r.name, r.kind, r.params, r.outside_hours, r.cooldown_seconds, coalesce(s.filter, r.filter) as watched
      from alert_rules r left join saved_searches s on s.id = r.saved_search
      where r.tenant_id = ${tenant} and r.enabled order by r.id`;
    if (rules.length === 0) return;
    const sql = tx as unknown as Sql;
    await pruneCounts(sql, tenant);
    const filters = rules.map((r) => eventFilterOf(r.watched));
    // The range's events, read once for all the rules (the columns filters use, as `e`); the
    // full-text column only when a rule searches text.
    const search = filters.some((f) => f.q !== undefined) ? sql`e.search` : sql`null::tsvector as search`;
    const range = await ledgerRange(sql, tenant, from, to);
    if (range === null) return;
    const events = rangeEvents(
      sql,
      tenant,
      range,
      sql`e.tenant_id, e.seq, e.occurred_at, e.received_at, e.action, e.actor_id, e.outcome, e.ip, e.body, ${search}`,
    );
    await sql`create temp table alert_range on commit drop as select e.* from ${events.from} where ${events.where}`;
    for (const [i, rule] of rules.entries()) {
      const watched = rangeCondition(sql, filters[i]!);
      const matches = rule.outside_hours ? sql`${watched} and ${outsideHoursCondition(sql, rule.outside_hours)}` : watched;
      if (rule.kind === 'threshold') await threshold(sql, rule, matches);
      else if (rule.kind === 'first_seen') await firstSeen(sql, rule, matches);
      else await heartbeat(sql, rule, matches);
    }
  },
};

const RANGE = (sql: Sql) => sql`alert_range e`;

/**
 * SQL over a range event `e` selecting what the rule's filter selects. A target is matched in the
 * event's body, which the range holds: `event_targets` is indexed by target, so a lookup there per
 * event would probe every partition's index.
 */
function rangeCondition(sql: Sql, filter: EventFilter): Fragment {
  const conds = conditions(sql, filter);
  if (filter.targetType !== undefined || filter.targetId !== undefined) {
    const target = {
      ...(filter.targetType !== undefined ? { type: filter.targetType } : {}),
      ...(filter.targetId !== undefined ? { id: filter.targetId } : {}),
    };
    conds.push(sql`e.body->'targets' @> ${sql.json([target] as never)}`);
  }
  return conds.reduce((all, c) => sql`${all} and ${c}`, sql`true`);
}

async function threshold(sql: Sql, rule: Rule, matches: Fragment): Promise<void> {
  const { count, window_seconds: w, group_by: groupBy } = rule.params as Extract<RuleParams, { count: number }>;
  const byTarget = groupBy === 'target';
  // An event's targets are in its body: no lookup in event_targets, which is indexed by target.
  const source = byTarget ? sql`${RANGE(sql)} cross join lateral jsonb_array_elements(e.body->'targets') t` : RANGE(sql);
  const group =
    groupBy === 'actor'
      ? sql`e.actor_id`
      : groupBy === 'ip'
        ? sql`coalesce(host(e.ip), '')`
        : groupBy === 'action'
          ? sql`e.action`
          : byTarget
            ? sql`(t->>'type') || ':' || (t->>'id')`
            : sql`''`;
  const crossed = await sql<{ group_key: string; window_start: Date; events: string }[]>`
    with added as (
      select ${group} as group_key, to_timestamp(floor(extract(epoch from e.occurred_at) / ${w}::int) * ${w}::int) as window_start,
             count(${byTarget ? sql`distinct e.seq` : sql`*`}) as n
      from ${source} where ${matches} group by 1, 2
    ), counted as (
      insert into alert_counts (rule_id, group_key, window_start, events)
      select ${rule.id}, group_key, window_start, n from added
      on conflict (rule_id, group_key, window_start) do update set events = alert_counts.events + excluded.events
      returning group_key, window_start, events
    )
    select c.group_key, c.window_start, c.events from counted c join added a using (group_key, window_start)
    where c.events >= ${count}::bigint and c.events - a.n < ${count}::bigint`;
  for (const c of crossed) {
    const who = groupBy === 'none' ? '' : ` for ${groupBy} ${c.group_key || '(none)'}`;
    await fire(sql, rule, c.group_key, c.window_start, `${c.events} matching events${who} within ${w} s from ${c.window_start.toISOString()}`, {
      events: Number(c.events),
      group_by: groupBy,
      window_seconds: w,
    });
  }
}

const SEEN_VALUE: Record<string, (sql: Sql) => Fragment> = {
  ip: (sql) => sql`host(e.ip)`,
  user_agent: (sql) => sql`e.body->'context'->>'user_agent'`,
  location: (sql) => sql`e.body->'context'->>'location'`,
  actor: (sql) => sql`e.actor_id`,
};

async function firstSeen(sql: Sql, rule: Rule, matches: Fragment): Promise<void> {
  const { field } = rule.params as Extract<RuleParams, { field: string }>;
  const value = SEEN_VALUE[field]!(sql);
  // A new actor is new to the whole tenant (one group); a new value is new to its actor.
  const group = field === 'actor' ? sql`''` : sql`e.actor_id`;
  // All parts of one statement see the state before it: `known` are the actors seen before this range.
  const fresh = await sql<{ actor: string; value: string; occurred_at: Date; learned: boolean }[]>`
    with batch as (
      select distinct on (1, 2) ${group} as actor, ${value} as value, e.occurred_at, e.seq
      from ${RANGE(sql)} where ${matches} and ${value} is not null
      order by 1, 2, e.seq
    ), known as (
      select distinct group_key from alert_seen where rule_id = ${rule.id} and group_key in (select actor from batch)
    ), added as (
      insert into alert_seen (rule_id, group_key, value) select ${rule.id}, actor, value from batch
      on conflict do nothing returning group_key, value
    )
    select b.actor, b.value, b.occurred_at,
           b.actor not in (select group_key from known) and b.seq = (select min(seq) from batch o where o.actor = b.actor) as learned
    from batch b join added a on a.group_key = b.actor and a.value = b.value
    order by b.seq`;
  for (const f of fresh) {
    if (f.learned) continue;
    const summary = field === 'actor' ? `new actor: ${f.value}` : `actor ${f.actor} seen with a new ${field}: ${f.value}`;
    await fire(sql, rule, field === 'actor' ? f.value : f.actor, f.occurred_at, summary, {
      actor: field === 'actor' ? f.value : f.actor,
      field,
      value: f.value,
    });
  }
}

async function heartbeat(sql: Sql, rule: Rule, matches: Fragment): Promise<void> {
  await sql`
    insert into alert_heartbeats (rule_id, last_match_at)
    select ${rule.id}, max(e.received_at) from ${RANGE(sql)} where ${matches} having count(*) > 0
    on conflict (rule_id) do update set last_match_at = greatest(alert_heartbeats.last_match_at, excluded.last_match_at)`;
}

/** Records a firing unless one of this rule, group and window exists, or one lies within the cooldown. */
async function fire(sql: Sql, rule: Rule, groupKey: string, windowStart: Date, summary: string, details: Record<string, unknown>): Promise<void> {
  await sql`
    insert into alert_firings (rule_id, tenant_id, group_key, window_start, summary, details)
    select ${rule.id}, ${rule.tenant_id}, ${groupKey}, ${windowStart}, ${summary}, ${sql.json(details as never)}
    where not exists (
      select from alert_firings f where f.rule_id = ${rule.id} and f.group_key = ${groupKey} and f.window_start <> ${windowStart}
        and abs(extract(epoch from f.window_start - ${windowStart}::timestamptz)) < ${rule.cooldown_seconds}::int)
    on conflict (rule_id, group_key, window_start) do nothing`;
}

const PRUNE_EVERY_MS = 60_000;
const prunedAt = new Map<string, number>();

/**
 * Forgets the tenant's threshold counts of windows that ended more than a window ago (by the clock),
 * at most once a minute per process. It runs in the follower's transaction, which holds the
 * tenant's cursor, so it never races the counting. An event arriving later for such a window
 * counts afresh, but can never fire that window and group twice.
 */
async function pruneCounts(sql: Sql, tenant: string): Promise<void> {
  if (Date.now() - (prunedAt.get(tenant) ?? 0) < PRUNE_EVERY_MS) return;
  prunedAt.set(tenant, Date.now());
  await sql`
    delete from alert_counts c using alert_rules r
    where r.tenant_id = ${tenant} and r.id = c.rule_id
      and c.window_start < now() - make_interval(secs => 2 * (r.params->>'window_seconds')::int)`;
}

/**
 * Fires the absence rules whose last matching event is older than their period, once per silence.
 * Only tenants whose events the alert follower has applied up to their head are judged, so an event
 * committed but not yet applied never lets a silence be reported that did not happen.
 */
export async function fireAbsences(sql: Sql): Promise<number> {
  const rows = await sql`
    insert into alert_firings (rule_id, tenant_id, group_key, window_start, summary, details)
    select r.id, r.tenant_id, '', h.last_match_at,
           'no matching event since ' || to_char(h.last_match_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
             || ' (period ' || (r.params->>'period_seconds') || ' s)',
           jsonb_build_object('last_match_at', h.last_match_at, 'period_seconds', (r.params->>'period_seconds')::int)
    from alert_rules r join alert_heartbeats h on h.rule_id = r.id
    where r.kind = 'absence' and r.enabled
      and h.last_match_at < now() - make_interval(secs => (r.params->>'period_seconds')::int)
      and not exists (
        select from ledger_heads lh left join follower_cursors c on c.follower = ${ALERT_FOLLOWER} and c.tenant_id = lh.tenant_id
        where lh.tenant_id = r.tenant_id and lh.size > coalesce(c.next_seq, 0))
    on conflict (rule_id, group_key, window_start) do nothing
    returning id`;
  return rows.length;
}
