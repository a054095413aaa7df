/**
 * Writes a tenant's verifiable bundle (format: bundle-format.ts, docs/bundle.md) straight from
 * PostgreSQL: leaves and checkpoints are read in keyset batches and merged by tree size, so memory
 * stays at one batch whatever the log's size. The export is a snapshot of the log as it was when it
 * started: leaves below the head's size then, and checkpoints issued before that.
 */
import { TrailproofError } from '../errors.ts';
import type { Sql } from '../store/db.ts';
import { checkpointLine, endLine, eventText, headerLine, leafLine } from './bundle-format.ts';

export interface BundleSource {
  tenant: string;
  /** `<host>/t/<tenant>`: the origin of the tenant's checkpoints. */
  origin: string;
  /** The verifier keys the server publishes for the tenant (informational in the header). */
  verifierKeys: readonly string[];
  /** Rows per query; default 2,000. */
  batchSize?: number;
}

/** One line of the bundle and, for a leaf line, the leaf hash stored for it (the self-audit compares it). */
export interface BundleItem {
  line: string;
  leaf?: { index: number; storedHash: Buffer };
}

interface LeafRow {
  seq: number;
  uid: string;
  received_at: Date;
  commitment: Buffer;
  leaf_hash: Buffer;
  body: unknown;
  salt: Buffer | null;
}

interface CheckpointRow {
  id: number;
  size: number;
  note: string;
  issued_at: Date;
  cosignatures: string[];
}

/** The bundle as text chunks of many lines each (for files and HTTP responses); `counted` gets each chunk's leaves. */
export async function* bundleText(sql: Sql, source: BundleSource, counted: (leaves: number) => void = () => {}): AsyncGenerator<string> {
  for await (const batch of bundleItems(sql, source)) {
    counted(batch.reduce((leaves, item) => leaves + (item.leaf ? 1 : 0), 0));
    yield batch.map((item) => item.line).join('');
  }
}

/** The bundle in batches of lines, in order. Throws TENANT_NOT_FOUND before yielding anything. */
export async function* bundleItems(sql: Sql, source: BundleSource): AsyncGenerator<BundleItem[]> {
  const { tenant } = source;
  const batchSize = source.batchSize ?? 2_000;
  // Checkpoints first: every one issued so far is for a size the head (read next) has reached.
  const [last] = await sql<{ id: number }[]>`select coalesce(max(id), 0)::int8 as id from ledger_checkpoints where tenant_id = ${tenant}`;
  const [head] = await sql<{ size: number }[]>`select size from ledger_heads where tenant_id = ${tenant}`;
  if (!head) throw new TrailproofError('TENANT_NOT_FOUND', `tenant "${tenant}" does not exist`);
  const lastCheckpointId = last!.id;

  const checkpoints = keysetBatches<CheckpointRow, { size: number; id: number }>(
    { size: -1, id: 0 },
    (after) => sql<CheckpointRow[]>`
    select c.id, c.size, c.note, c.issued_at,
           coalesce((select array_agg(s.signature order by s.witness) from ledger_cosignatures s where s.checkpoint_id = c.id), '{}') as cosignatures
    from ledger_checkpoints c
    where c.tenant_id = ${tenant} and c.id <= ${lastCheckpointId} and (c.size, c.id) > (${after.size}, ${after.id})
    order by c.size, c.id limit ${batchSize}`,
    (row) => ({ size: row.size, id: row.id }),
  );
  let nextCheckpoint = await checkpoints.next();
  let leafCount = 0;
  let checkpointCount = 0;
  /** Checkpoint lines for every checkpoint of size ≤ `size` not written yet. */
  const checkpointsUpTo = async (size: number, out: BundleItem[]): Promise<void> => {
    while (!nextCheckpoint.done && nextCheckpoint.value.size <= size) {
      const c = nextCheckpoint.value;
      out.push({ line: checkpointLine({ note: c.note, issued_at: c.issued_at.toISOString(), cosignatures: c.cosignatures.map(asSignatureLine) }) });
      checkpointCount += 1;
      nextCheckpoint = await checkpoints.next();
    }
  };

  const first: BundleItem[] = [
    { line: headerLine({ tenant, origin: source.origin, verifier_keys: [...source.verifierKeys], size: head.size, created_at: new Date().toISOString() }) },
  ];
  await checkpointsUpTo(0, first);
  yield first;

  let after = -1;
  for (;;) {
    const rows = await sql<LeafRow[]>`
      select l.seq, l.uid, l.received_at, l.commitment, l.leaf_hash, e.body, e.salt
      from ledger_leaves l
      left join events e on e.tenant_id = l.tenant_id and e.occurred_at = l.occurred_at and e.seq = l.seq
      where l.tenant_id = ${tenant} and l.seq > ${after} and l.seq < ${head.size}
      order by l.seq limit ${batchSize}`;
    if (rows.length === 0) break;
    const out: BundleItem[] = [];
    for (const row of rows) {
      const present = row.body !== null && row.salt !== null;
      out.push({
        line: leafLine({
          index: row.seq,
          uid: row.uid,
          received_at: row.received_at.toISOString(),
          commitment: row.commitment.toString('hex'),
          salt: present ? row.salt!.toString('hex') : null,
          event: present ? eventText(row.body) : null,
        }),
        leaf: { index: row.seq, storedHash: row.leaf_hash },
      });
      leafCount += 1;
      await checkpointsUpTo(row.seq + 1, out);
    }
    yield out;
    after = rows.at(-1)!.seq;
  }
  // Checkpoints larger than every leaf are only there when leaves were removed: keep them, they prove it.
  const tail: BundleItem[] = [];
  await checkpointsUpTo(Number.MAX_SAFE_INTEGER, tail);
  tail.push({ line: endLine({ leaves: leafCount, checkpoints: checkpointCount }) });
  yield tail;
}

/** Rows of a keyset-paginated query, one at a time, fetching a batch whenever the last is used up. */
async function* keysetBatches<Row, Key>(start: Key, fetch: (after: Key) => Promise<Row[]>, keyOf: (row: Row) => Key): AsyncGenerator<Row> {
  let after = start;
  for (;;) {
    const rows = await fetch(after);
    yield* rows;
    if (rows.length === 0) return;
    after = keyOf(rows.at(-1)!);
  }
}

/** Cosignature lines are stored as returned by the witness; the bundle carries each with its newline. */
function asSignatureLine(line: string): string {
  return line.endsWith('\n') ? line : `${line}\n`;
}
