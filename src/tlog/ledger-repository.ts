/** Reading a tenant's ledger rows for the read API: leaves and their envelopes, the head, status. */
import type { EventBody } from '../event/types.ts';
import type { Envelope } from '../ledger/envelope.ts';
import { envelopeBytes } from '../ledger/envelope.ts';
import { TILE_WIDTH } from '../ledger/tiles.ts';
import type { Sql } from '../store/db.ts';
import { cosignatureLinesOf } from '../witness/cosignature-store.ts';
import type { StoredHashes } from './hash-reader.ts';
import type { CheckpointRow } from './checkpoint-store.ts';

export interface LeafRecord {
  tenant: string;
  envelope: Envelope;
  /** The event body the commitment covers, and its salt; null once retention purged them. */
  body: EventBody | null;
  salt: Buffer | null;
  /** The tenant's newest checkpoint at the time of reading, if any (saves a round trip for proofs). */
  checkpoint: CheckpointRow | undefined;
  /** Its witnesses' cosignature lines (cosignatureLines). */
  cosignatures: string[];
  /** The leaf hashes of the leaf's tile within that checkpoint, concatenated (see findLeafByUid). */
  tile?: StoredHashes;
}

interface LeafRow {
  tenant_id: string;
  seq: number;
  uid: string;
  received_at: Date;
  commitment: Buffer;
  body: EventBody | null;
  salt: Buffer | null;
}

/**
 * The leaf of event `uid` (any tenant: the caller checks access), with its event if still stored,
 * the tenant's newest checkpoint and its cosignatures and, when that checkpoint covers the leaf, the stored leaf hashes of
 * the leaf's level-0 tile up to the checkpoint's size. Those are the hashes of the proof's lower
 * eight levels, the only part that differs from one leaf to the next (the upper ones are
 * mostly in the node cache): reading them here saves a proof a round trip after this one.
 */
export async function findLeafByUid(sql: Sql, uid: string): Promise<LeafRecord | undefined> {
  const [row] = await sql<
    (LeafRow & {
      checkpoint: (Omit<CheckpointRow, 'root' | 'issued_at'> & { root: string; issued_at: string }) | null;
      cosignatures: string[] | null;
      tile_rows: number | null;
      tile_hashes: Buffer | null;
    })[]
  >`
    select l.tenant_id, l.seq, l.uid, l.received_at, l.commitment, e.body, e.salt, c.checkpoint, c.cosignatures, t.n as tile_rows, t.hashes as tile_hashes
    from ledger_leaves l
    left join events e on e.tenant_id = l.tenant_id and e.occurred_at = l.occurred_at and e.seq = l.seq
    left join lateral (
      select cp.size, json_build_object('id', cp.id, 'tenant', cp.tenant_id, 'size', cp.size, 'root', encode(cp.root, 'hex'), 'note', cp.note,
                                        'key_name', cp.key_name, 'key_id', cp.key_id, 'issued_at', cp.issued_at) as checkpoint,
             ${cosignatureLinesOf(sql)} as cosignatures
      from ledger_checkpoints cp where cp.tenant_id = l.tenant_id order by cp.size desc, cp.id desc limit 1
    ) c on true
    left join lateral (
      select count(*)::int as n, string_agg(h.leaf_hash, ''::bytea order by h.seq) as hashes
      from ledger_leaves h
      where h.tenant_id = l.tenant_id and h.seq >= l.seq - l.seq % ${TILE_WIDTH} and h.seq < least(l.seq - l.seq % ${TILE_WIDTH} + ${TILE_WIDTH}, c.size)
    ) t on c.size > l.seq
    where l.uid = ${uid}`;
  if (!row) return undefined;
  const c = row.checkpoint;
  const checkpoint = c ? { ...c, root: Buffer.from(c.root, 'hex'), issued_at: new Date(c.issued_at) } : undefined;
  const envelope = envelopeOf(row);
  const start = envelope.index - (envelope.index % TILE_WIDTH);
  const tile =
    checkpoint && row.tile_hashes
      ? { level: 0, start, end: Math.min(start + TILE_WIDTH, checkpoint.size), rows: row.tile_rows ?? 0, hashes: row.tile_hashes }
      : undefined;
  return { tenant: row.tenant_id, envelope, body: row.body, salt: row.salt, checkpoint, cosignatures: row.cosignatures ?? [], ...(tile ? { tile } : {}) };
}

/** The envelopes (leaf data) of leaves [start, end), in order. */
export async function readEnvelopes(sql: Sql, tenant: string, start: number, end: number): Promise<Buffer[]> {
  const rows = await sql<LeafRow[]>`
    select tenant_id, seq, uid, received_at, commitment from ledger_leaves
    where tenant_id = ${tenant} and seq >= ${start} and seq < ${end} order by seq`;
  return rows.map((row) => envelopeBytes(envelopeOf(row)));
}

export interface TenantHead {
  size: number;
  root: Buffer;
  updated_at: Date;
}

export async function readHead(sql: Sql, tenant: string): Promise<TenantHead | undefined> {
  const [head] = await sql<TenantHead[]>`select size, root, updated_at from ledger_heads where tenant_id = ${tenant}`;
  return head;
}

export interface AuditRunSummary {
  id: number;
  started_at: Date;
  finished_at: Date | null;
  ok: boolean | null;
  /** This tenant's part of the run's report, if the run covered it. */
  report: unknown;
}

/** The newest self-audit run (ledger_audit_runs), with only the given tenant's part of its report. */
export async function latestAuditRun(sql: Sql, tenant: string): Promise<AuditRunSummary | undefined> {
  const [run] = await sql<AuditRunSummary[]>`
    select id, started_at, finished_at, ok, coalesce(report->'tenants'->${tenant}, report->${tenant}) as report
    from ledger_audit_runs order by id desc limit 1`;
  return run;
}

export interface WitnessCosignature {
  witness: string;
  checkpoint_size: number;
  received_at: Date;
}

/** Per witness, its newest cosignature of one of the tenant's checkpoints. */
export async function latestCosignatures(sql: Sql, tenant: string): Promise<WitnessCosignature[]> {
  return sql<WitnessCosignature[]>`
    select distinct on (s.witness) s.witness, c.size as checkpoint_size, s.received_at
    from ledger_cosignatures s join ledger_checkpoints c on c.id = s.checkpoint_id
    where c.tenant_id = ${tenant}
    order by s.witness, c.size desc, s.received_at desc`;
}

function envelopeOf(row: Pick<LeafRow, 'tenant_id' | 'seq' | 'uid' | 'received_at' | 'commitment'>): Envelope {
  return { tenant: row.tenant_id, index: row.seq, uid: row.uid, received_at: row.received_at.toISOString(), commitment: row.commitment };
}
