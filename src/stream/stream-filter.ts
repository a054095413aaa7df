/**
 * A destination's filter (actions named exactly or by `prefix*`, and the outcome), in the two places
 * it is applied: on stored events in Node (`matcher`), and in SQL (`filterCondition`) when the
 * database writes the records (feed-records.ts). A test holds the two to the same selection.
 */
import type { StoredEvent } from '../event/types.ts';
import type { Fragment } from '../query/event-repository.ts';
import type { Sql } from '../store/db.ts';
import type { StreamFilter } from './stream-store.ts';

/** The event filter of a destination: actions (exact, or prefix with `*`) and outcome. */
export function matcher(filter: StreamFilter): (e: StoredEvent) => boolean {
  const exact = new Set(filter.actions?.filter((a) => !a.endsWith('*')));
  const prefixes = filter.actions?.filter((a) => a.endsWith('*')).map((a) => a.slice(0, -1)) ?? [];
  const anyAction = !filter.actions || filter.actions.length === 0;
  return (e) =>
    (filter.outcome === undefined || e.outcome === filter.outcome) && (anyAction || exact.has(e.action) || prefixes.some((p) => e.action.startsWith(p)));
}

/**
 * SQL of a destination's filter over `e`: an action named exactly, or starting with a prefix given
 * as `prefix*` (compared with starts_with: `_` and `%`, which LIKE would read as wildcards, are
 * characters of action names); and the outcome.
 */
export function filterCondition(sql: Sql, filter: StreamFilter): Fragment {
  const conditions: Fragment[] = [];
  if (filter.outcome !== undefined) conditions.push(sql`e.outcome = ${filter.outcome}`);
  if (filter.actions && filter.actions.length > 0) {
    const exact = filter.actions.filter((a) => !a.endsWith('*'));
    const prefixes = filter.actions.filter((a) => a.endsWith('*')).map((a) => a.slice(0, -1));
    conditions.push(sql`(e.action = any(${exact}::text[]) or exists (select from unnest(${prefixes}::text[]) p where starts_with(e.action, p)))`);
  }
  return conditions.reduce((all, c) => sql`${all} and ${c}`, sql`true`);
}
