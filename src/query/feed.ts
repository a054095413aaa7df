/**
 * The feed: a tenant's events in commit order (ledger index order), for collectors that tail a
 * trail (`GET /v1/events/feed`). A tenant's appends hold its head row lock until they commit, so
 * index order is commit order: reading `seq >= position` can never skip an event that commits
 * later with a smaller index. The cursor is that position, bound to the tenant.
 */
import { TrailproofError } from '../errors.ts';
import type { StoredEvent } from '../event/types.ts';
import type { Sql } from '../store/db.ts';
import { toStoredEvent, type EventRow, type Fragment } from './event-repository.ts';

export interface FeedPage {
  data: StoredEvent[];
  /** The same list as `data`, under the name earlier releases used; deprecated, removed in the next. */
  events: StoredEvent[];
  /** Where the next request starts; also returned when no event was new. */
  next_cursor: string;
}

/**
 * Events with index ≥ `from`, in index order. Purged payloads (retention) are skipped, and so are
 * events `where` (SQL over `e`) does not select; `next` passes them all.
 */
export async function readFeed(sql: Sql, tenant: string, from: number, limit: number, where?: Fragment): Promise<{ events: StoredEvent[]; next: number }> {
  const rows = await sql<(EventRow & { leaf_seq: number })[]>`
    select l.seq as leaf_seq, e.tenant_id, e.seq, e.uid, e.occurred_at, e.received_at, e.body
    from ledger_leaves l
    left join events e on e.tenant_id = l.tenant_id and e.occurred_at = l.occurred_at and e.seq = l.seq and ${where ?? sql`true`}
    where l.tenant_id = ${tenant} and l.seq >= ${from}
    order by l.seq
    limit ${limit}`;
  const last = rows.at(-1);
  return {
    events: rows.filter((r) => r.body !== null).map(toStoredEvent),
    next: last ? last.leaf_seq + 1 : from,
  };
}

export function encodeFeedCursor(tenant: string, position: number): string {
  return Buffer.from(JSON.stringify({ v: 1, t: tenant, s: position })).toString('base64url');
}

/** The position a cursor names; CURSOR_INVALID for a foreign, malformed or other tenant's cursor. */
export function decodeFeedCursor(cursor: string, tenant: string): number {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const c = parsed as { v?: unknown; t?: unknown; s?: unknown } | undefined;
  if (c?.v !== 1 || typeof c.t !== 'string' || !Number.isSafeInteger(c.s) || (c.s as number) < 0)
    throw invalid('after is not a feed cursor this server issued');
  if (c.t !== tenant) throw invalid("after is a cursor of another tenant's feed");
  return c.s as number;
}

function invalid(message: string): TrailproofError {
  return new TrailproofError('CURSOR_INVALID', message, { details: [{ pointer: '/after', code: 'invalid_cursor', message }] });
}
