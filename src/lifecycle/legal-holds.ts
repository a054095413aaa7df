/**
 * Legal holds (docs/lifecycle.md "Legal holds"): while a hold is in force, the events its filter
 * matches are neither purged nor erased. The database applies holds itself when it removes payloads
 * (`trailproof_event_held`, migration 0060); a hold is placed and released under the tenant's
 * lifecycle lock, so it takes effect between removals, never in the middle of one. Every change is
 * recorded in the tenant's trail (`legal_hold.created`, `legal_hold.released`).
 */
import { TrailproofError } from '../errors.ts';
import { uuidv7 } from '../ingest/uid.ts';
import type { Sql } from '../store/db.ts';
import { lockLifecycleInTransaction } from './payload-removal.ts';

export interface HoldFilter {
  /** Events by this actor id. */
  actor?: string;
  /** Events that acted on this target. */
  target?: { type: string; id: string };
  /** Events that occurred at or after this time. */
  since?: string;
  /** Events that occurred before this time. */
  until?: string;
}

export interface LegalHold {
  id: string;
  tenant: string;
  reason: string;
  /** Empty: every event of the tenant. */
  filter: HoldFilter;
  created_at: string;
  created_by: string;
  released_at: string | null;
  released_by: string | null;
  release_reason: string | null;
}

interface HoldRow {
  id: string;
  tenant_id: string;
  reason: string;
  actor_id: string | null;
  target_type: string | null;
  target_id: string | null;
  since: Date | null;
  until: Date | null;
  created_at: Date;
  created_by: string;
  released_at: Date | null;
  released_by: string | null;
  release_reason: string | null;
}

/** Places a hold; in force once this returns. */
export async function createHold(sql: Sql, input: { tenant: string; reason: string; filter: HoldFilter; by: string }): Promise<LegalHold> {
  const { filter } = input;
  if (filter.since !== undefined && filter.until !== undefined && Date.parse(filter.since) >= Date.parse(filter.until)) {
    throw new TrailproofError('REQUEST_INVALID', '`filter.until` must be after `filter.since`', {
      details: [{ pointer: '/filter/until', code: 'out_of_range', message: 'must be after filter.since' }],
    });
  }
  const id = `hold_${uuidv7()}`;
  const [row] = await sql.begin(async (tx) => {
    await lockLifecycleInTransaction(tx as unknown as Sql, input.tenant);
    // clock_timestamp(), taken under the lock: after the decision of any purge that held it before.
    return tx<HoldRow[]>`
      insert into legal_holds (id, tenant_id, reason, actor_id, target_type, target_id, since, until, created_at, created_by)
      values (${id}, ${input.tenant}, ${input.reason}, ${filter.actor ?? null}, ${filter.target?.type ?? null}, ${filter.target?.id ?? null},
              ${filter.since ?? null}, ${filter.until ?? null}, clock_timestamp(), ${input.by})
      returning *`;
  });
  return toHold(row!);
}

/** Releases a hold in force; NOT_FOUND for another tenant's, a missing or an already released one. */
export async function releaseHold(sql: Sql, input: { id: string; tenant: string | null; reason: string; by: string }): Promise<LegalHold> {
  const existing = await getHold(sql, input.id, input.tenant);
  if (!existing) throw new TrailproofError('NOT_FOUND', `no legal hold ${input.id}`);
  if (existing.released_at !== null) throw new TrailproofError('NOT_FOUND', `legal hold ${input.id} was already released`);
  const [row] = await sql.begin(async (tx) => {
    await lockLifecycleInTransaction(tx as unknown as Sql, existing.tenant);
    return tx<HoldRow[]>`
      update legal_holds set released_at = clock_timestamp(), released_by = ${input.by}, release_reason = ${input.reason}
      where id = ${input.id} and released_at is null returning *`;
  });
  if (!row) throw new TrailproofError('NOT_FOUND', `legal hold ${input.id} was already released`);
  return toHold(row);
}

/** One hold, if it exists and (with `tenant`) belongs to that tenant. */
export async function getHold(sql: Sql, id: string, tenant: string | null): Promise<LegalHold | undefined> {
  const [row] = await sql<HoldRow[]>`select * from legal_holds where id = ${id} and (${tenant}::text is null or tenant_id = ${tenant})`;
  return row ? toHold(row) : undefined;
}

/** The tenant's holds, newest first; released ones too unless `active`. */
export async function listHolds(sql: Sql, tenant: string, options: { active?: boolean } = {}): Promise<LegalHold[]> {
  const rows = await sql<HoldRow[]>`
    select * from legal_holds where tenant_id = ${tenant} and (${options.active === true} = false or released_at is null)
    order by created_at desc, id desc`;
  return rows.map(toHold);
}

/**
 * Of the tenant's events at these indices, those a hold in force now covers (for removers that
 * must refuse held events, such as erasure).
 */
export async function heldIndices(sql: Sql, tenant: string, indices: number[]): Promise<number[]> {
  if (indices.length === 0) return [];
  const rows = await sql<{ seq: number }[]>`
    select e.seq from ledger_leaves l
    join events e on e.tenant_id = l.tenant_id and e.occurred_at = l.occurred_at and e.seq = l.seq
    where l.tenant_id = ${tenant} and l.seq = any(${indices}::int8[])
      and trailproof_event_held(e.tenant_id, e.occurred_at, e.seq, e.actor_id, clock_timestamp())
    order by e.seq`;
  return rows.map((r) => r.seq);
}

function toHold(row: HoldRow): LegalHold {
  const filter: HoldFilter = {};
  if (row.actor_id !== null) filter.actor = row.actor_id;
  if (row.target_type !== null && row.target_id !== null) filter.target = { type: row.target_type, id: row.target_id };
  if (row.since !== null) filter.since = row.since.toISOString();
  if (row.until !== null) filter.until = row.until.toISOString();
  return {
    id: row.id,
    tenant: row.tenant_id,
    reason: row.reason,
    filter,
    created_at: row.created_at.toISOString(),
    created_by: row.created_by,
    released_at: row.released_at?.toISOString() ?? null,
    released_by: row.released_by,
    release_reason: row.release_reason,
  };
}
