/**
 * Database-level checks of one tenant's ledger after a crash or restart (no gaps, no forks:
 * docs/architecture.md): leaves are exactly 0..n-1, the head's size is n, every leaf has its event row.
 */
import { expect } from 'vitest';
import { commitment, eventLeafHash } from '../../src/ledger/envelope.ts';
import type { Sql } from '../../src/store/db.ts';

export interface LedgerState {
  size: number;
  leaves: number;
}

export async function expectContiguousLedger(sql: Sql, tenant: string): Promise<LedgerState> {
  // One statement, so one snapshot: the service may be appending meanwhile (records of reads join
  // the ledger a moment after the read).
  const [state] = await sql<{ n: number; min: number | null; max: number | null; distinct_seq: number; size: number | null; events: number; gaps: number }[]>`
    select l.n, l.min, l.max, l.distinct_seq, h.size, (select count(*)::int from events where tenant_id = ${tenant}) as events,
      (select count(*)::int from generate_series(0, coalesce(h.size, 0) - 1) as s(seq)
       where not exists (select 1 from ledger_leaves x where x.tenant_id = ${tenant} and x.seq = s.seq)) as gaps
    from (select count(*)::int as n, min(seq)::int as min, max(seq)::int as max, count(distinct seq)::int as distinct_seq
          from ledger_leaves where tenant_id = ${tenant}) as l
    left join ledger_heads h on h.tenant_id = ${tenant}`;
  const { n, min, max, distinct_seq: distinct, size, events, gaps } = state!;
  expect(size, `ledger head of ${tenant}`).not.toBeNull();
  expect({ tenant, head: size, leaves: n, distinct, min, max, gaps, events }).toEqual({
    tenant,
    head: n,
    leaves: n,
    distinct: n,
    min: n === 0 ? null : 0,
    max: n === 0 ? null : n - 1,
    gaps: 0,
    events: n,
  });
  return { size: size!, leaves: n };
}

/** Client ids stored more than once for the tenant (must be none: ids are idempotency keys). */
export async function duplicateClientIds(sql: Sql, tenant: string): Promise<string[]> {
  const rows = await sql<{ client_id: string }[]>`
    select client_id from ledger_leaves where tenant_id = ${tenant} and client_id is not null
    group by client_id having count(*) > 1`;
  return rows.map((r) => r.client_id);
}

/**
 * The tenant's leaf hashes 0..n-1 recomputed from what the leaves commit to: each event's body and
 * salt (the commitment) and the envelope fields, never from the stored leaf_hash column.
 */
export async function recomputedLeafHashes(sql: Sql, tenant: string): Promise<Buffer[]> {
  const rows = await sql<{ seq: number; uid: string; received_at: Date; body: unknown; salt: Buffer }[]>`
    select l.seq, l.uid, l.received_at, e.body, e.salt from ledger_leaves l
    join events e on e.tenant_id = l.tenant_id and e.seq = l.seq and e.occurred_at = l.occurred_at
    where l.tenant_id = ${tenant} order by l.seq`;
  return rows.map((r, i) => {
    expect(r.seq, `leaf ${i} of ${tenant}`).toBe(i);
    return eventLeafHash({ tenant, index: r.seq, uid: r.uid, received_at: r.received_at.toISOString(), commitment: commitment(r.salt, r.body) });
  });
}
