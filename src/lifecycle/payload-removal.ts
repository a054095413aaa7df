/**
 * Removal of event payloads (docs/lifecycle.md "What the database enforces"): the one way a payload
 * leaves the database. The removal itself is `trailproof_remove_payloads(tenant, record_seq, from,
 * to)` (migration 0060), a SECURITY DEFINER function the service role may execute; it removes only
 * what the removal record at `record_seq` (already committed to the tenant's ledger) covers: events
 * rows (body, salt, search entry) and their event_targets rows. Leaves, tiles and checkpoints stay.
 *
 * The protocol every remover follows (purge.ts; erasure builds on the same):
 *   1. `withLifecycleLock(tenant)`: one remover per tenant, and no legal hold changes meanwhile.
 *   2. Decide what goes, append the record (`retention.purged`, …) through the ledger.
 *   3. `removePayloads(record)`: in short transactions; safe to repeat after a crash.
 */
import type { Sql } from '../store/db.ts';

/**
 * Action namespaces of lifecycle records: the evidence of every removal (purges, the policies they
 * follow, holds, erasures). The database never removes their payloads.
 */
export const LIFECYCLE_NAMESPACES: readonly string[] = Object.freeze(['retention', 'legal_hold', 'erasure']);

/** Whether `action` is a lifecycle record's (its payload is kept forever). */
export function isLifecycleAction(action: string): boolean {
  const dot = action.indexOf('.');
  return dot > 0 && LIFECYCLE_NAMESPACES.includes(action.slice(0, dot));
}

/** Leaf indices removed per transaction by default: short enough not to hold up ingest. */
export const DEFAULT_REMOVAL_CHUNK = 20_000;

export interface RemovalOptions {
  /** Leaf indices per transaction (default DEFAULT_REMOVAL_CHUNK). */
  chunk?: number;
  /** Called after each transaction with how many of the range's indices are done. */
  progress?: (done: number) => void;
}

/**
 * Removes the payloads the removal record at `recordSeq` covers within `[from, to)`, one chunk of
 * indices per transaction; returns how many were removed. Idempotent: what is gone stays gone, and
 * a repeat removes nothing more. Refused by the database (SQLSTATE 42501) unless the event at
 * `recordSeq` is a service record that authorises removal.
 */
export async function removePayloads(sql: Sql, tenant: string, recordSeq: number, [from, to]: [number, number], options: RemovalOptions = {}): Promise<number> {
  const chunk = options.chunk ?? DEFAULT_REMOVAL_CHUNK;
  let removed = 0;
  // One call even for an empty range: the database logs the record (payload_removals) on first use.
  for (let start = from; start < to || start === from; start += chunk) {
    const end = Math.min(to, start + chunk);
    const [row] = await sql<{ removed: number }[]>`select trailproof_remove_payloads(${tenant}, ${recordSeq}, ${start}, ${end}) as removed`;
    removed += row!.removed;
    options.progress?.(end - from);
    if (end >= to) break;
  }
  return removed;
}

/**
 * Runs `work` holding the tenant's lifecycle lock (a PostgreSQL advisory lock on a connection of its
 * own, so it is released when this process dies): one remover per tenant at a time, and legal holds
 * of the tenant are created and released only between removals (legal-holds.ts takes the same lock).
 */
export async function withLifecycleLock<T>(sql: Sql, tenant: string, work: () => Promise<T>): Promise<T> {
  const connection = await sql.reserve();
  try {
    await connection`select pg_advisory_lock(hashtext('trailproof.lifecycle'), hashtext(${tenant}))`;
    try {
      return await work();
    } finally {
      await connection`select pg_advisory_unlock(hashtext('trailproof.lifecycle'), hashtext(${tenant}))`.catch(() => {});
    }
  } finally {
    connection.release();
  }
}

/** The same lock inside a transaction (`tx`), released when it ends: for changes of legal holds. */
export async function lockLifecycleInTransaction(tx: Sql, tenant: string): Promise<void> {
  await tx`select pg_advisory_xact_lock(hashtext('trailproof.lifecycle'), hashtext(${tenant}))`;
}
