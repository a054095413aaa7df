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
  const blank = checkpoint.note.indexOf('\n\n');
  if (blank < 0) return [];
  const rows = await sql<{ signature: string }[]>`
    select distinct on (s.witness) s.signature
    from ledger_checkpoints c join ledger_cosignatures s on s.checkpoint_id = c.id
    where c.tenant_id = ${checkpoint.tenant} and c.size = ${checkpoint.size} and c.root = ${checkpoint.root}
      and starts_with(c.note, ${checkpoint.note.slice(0, blank + 2)})
    order by s.witness, s.received_at desc`;
  return rows.map((row) => row.signature);
}

/** The checkpoint's note with its witnesses' cosignature lines appended. */
export async function cosignedCheckpoint(sql: Sql, checkpoint: StoredCheckpoint): Promise<string> {
  return withCosignatures(checkpoint.note, await cosignatureLines(sql, checkpoint));
}
