/** Reading the signed checkpoints of ledger_checkpoints (written only by the Checkpointer). */
import type { Sql } from '../store/db.ts';

export interface CheckpointRow {
  id: number;
  tenant: string;
  size: number;
  root: Buffer;
  /** The signed note, byte for byte as served. */
  note: string;
  /** Key name (the origin) and key ID (8 hex digits) of the service's signature. */
  key_name: string;
  key_id: string;
  issued_at: Date;
}

const COLUMNS = 'id, tenant_id as tenant, size, root, note, key_name, key_id, issued_at';

/** The tenant's newest checkpoint (largest size; of those, the last issued). */
export async function latestCheckpoint(sql: Sql, tenant: string): Promise<CheckpointRow | undefined> {
  const [row] = await sql<CheckpointRow[]>`
    select ${sql.unsafe(COLUMNS)} from ledger_checkpoints where tenant_id = ${tenant} order by size desc, id desc limit 1`;
  return row;
}

/** The tenant's smallest checkpoint of size ≥ `size` (first issued of that size), if any. */
export async function checkpointCovering(sql: Sql, tenant: string, size: number): Promise<CheckpointRow | undefined> {
  const [row] = await sql<CheckpointRow[]>`
    select ${sql.unsafe(COLUMNS)} from ledger_checkpoints where tenant_id = ${tenant} and size >= ${size} order by size, id limit 1`;
  return row;
}

/** The tenant's last-issued checkpoint of exactly `size` leaves, if any. */
export async function checkpointAtSize(sql: Sql, tenant: string, size: number): Promise<CheckpointRow | undefined> {
  const [row] = await sql<CheckpointRow[]>`
    select ${sql.unsafe(COLUMNS)} from ledger_checkpoints where tenant_id = ${tenant} and size = ${size} order by id desc limit 1`;
  return row;
}

/** Every checkpoint of the tenant, in issue order. */
export async function listCheckpoints(sql: Sql, tenant: string): Promise<CheckpointRow[]> {
  return sql<CheckpointRow[]>`select ${sql.unsafe(COLUMNS)} from ledger_checkpoints where tenant_id = ${tenant} order by id`;
}

export interface CheckpointLag {
  tenant: string;
  /** Seconds since the newest checkpoint was issued; null when the tree has none. */
  age: number | null;
  /** Leaves of the tree that no checkpoint covers yet. */
  unsigned: number;
}

/** Per tenant with a tree, how far its newest checkpoint is behind: the `limit` furthest behind first. */
export async function checkpointLags(sql: Sql, limit: number): Promise<CheckpointLag[]> {
  return sql<CheckpointLag[]>`
    select h.tenant_id as tenant, extract(epoch from now() - c.issued_at)::float8 as age, h.size - coalesce(c.size, 0) as unsigned
    from ledger_heads h
    left join lateral (
      select size, issued_at from ledger_checkpoints c where c.tenant_id = h.tenant_id order by size desc, id desc limit 1
    ) c on true
    order by c.issued_at nulls first, h.tenant_id
    limit ${limit}`;
}
