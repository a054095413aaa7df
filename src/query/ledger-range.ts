/**
 * A tenant's events by ledger position, as the committed-events followers and the stats tail read
 * them: the leaves from `from` up to `to` joined to their events, one key lookup each, within the
 * span of `occurred_at` the leaves cover. A plain join of leaves to events gives the planner no
 * partition bound, so it may hash every partition of the tenant's events; the lateral `limit 1`
 * lookup keeps the cost to the range's size, and the constant span prunes the partitions the
 * planner considers.
 */
import type { Sql } from '../store/db.ts';
import type { Fragment } from './event-repository.ts';

export interface LedgerRange {
  from: number;
  /** Exclusive. */
  to: number;
  /** The leaves' first and last `occurred_at` as PostgreSQL prints them (a Date would drop microseconds). */
  first: string;
  last: string;
}

/** The range of the tenant's leaves from `from` (below `to` if given; `extra` narrows it further), null when empty. */
export async function ledgerRange(sql: Sql, tenant: string, from: number, to?: number, extra: Fragment = sql``): Promise<LedgerRange | null> {
  const below = to === undefined ? sql`` : sql`and l.seq < ${to}`;
  const [row] = await sql<{ to: number | null; first: string | null; last: string | null }[]>`
    select max(l.seq) + 1 as to, min(l.occurred_at)::text as first, max(l.occurred_at)::text as last
    from ledger_leaves l where l.tenant_id = ${tenant} and l.seq >= ${from} ${below} ${extra}`;
  if (!row || row.to === null) return null;
  return { from, to: Number(row.to), first: row.first!, last: row.last! };
}

/**
 * FROM and WHERE over the range's leaves `l`, each with its event as `e` carrying `columns` (of
 * `events e`); with `everyLeaf`, a leaf without an event row is kept, its columns null.
 */
export function rangeEvents(
  sql: Sql,
  tenant: string,
  range: LedgerRange,
  columns: Fragment,
  options: { everyLeaf?: boolean } = {},
): { from: Fragment; where: Fragment } {
  const lookup = sql`(
      select ${columns} from events e
      where e.tenant_id = l.tenant_id and e.occurred_at = l.occurred_at and e.seq = l.seq
        and e.occurred_at >= ${range.first}::timestamptz and e.occurred_at <= ${range.last}::timestamptz
      limit 1) e`;
  return {
    from: options.everyLeaf ? sql`ledger_leaves l left join lateral ${lookup} on true` : sql`ledger_leaves l cross join lateral ${lookup}`,
    where: sql`l.tenant_id = ${tenant} and l.seq >= ${range.from} and l.seq < ${range.to}`,
  };
}
