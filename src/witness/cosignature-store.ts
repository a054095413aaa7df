/**
 * The witness cosignatures stored for a checkpoint, as served with it. A cosignature signs the
 * checkpoint's text (c2sp.org/tlog-cosignature), not the row: every row of the tenant with the same
 * text (a re-issued checkpoint of an unchanged tree) shares them, so per witness the newest
 * cosignature on any such row is served.
 */
import type { Sql } from '../store/db.ts';
import { withCosignatures } from './cosigned-note.ts';

export interface StoredCheckpoint {
  tenant: string;
  size: number;
  root: Buffer;
  /** The signed note as stored. */
  note: string;
}

/** Per witness, its newest cosignature line on this checkpoint's text (without the newline). */
export async function cosignatureLines(sql: Sql, checkpoint: StoredCheckpoint): Promise<string[]> {
  const [row] = await sql<{ lines: string[] }[]>`
    select ${cosignatureLinesOf(sql)} as lines
    from (select ${checkpoint.tenant}::text as tenant_id, ${checkpoint.size}::int8 as size, ${checkpoint.root}::bytea as root, ${checkpoint.note}::text as note) cp`;
  return row!.lines;
}

/**
 * SQL for cosignatureLines as a text[], of the checkpoint `cp` in scope (a row of ledger_checkpoints,
 * or anything with its tenant_id, size, root and note), so a query that reads a checkpoint can
 * bring its cosignatures along.
 */
export function cosignatureLinesOf(sql: Sql) {
  // The note's text is everything up to and including the blank line before its signatures.
  return sql`(
    select coalesce(array_agg(x.signature order by x.witness), '{}')
    from (
      select distinct on (s.witness) s.witness, s.signature
      from ledger_checkpoints c join ledger_cosignatures s on s.checkpoint_id = c.id
      where c.tenant_id = cp.tenant_id and c.size = cp.size and c.root = cp.root
        and strpos(cp.note, e'\n\n') > 0 and starts_with(c.note, left(cp.note, strpos(cp.note, e'\n\n') + 1))
      order by s.witness, s.received_at desc
    ) x)`;
}

/** The checkpoint's note with its witnesses' cosignature lines appended. */
export async function cosignedCheckpoint(sql: Sql, checkpoint: StoredCheckpoint): Promise<string> {
  return withCosignatures(checkpoint.note, await cosignatureLines(sql, checkpoint));
}
