/**
 * The stored tree of one tenant as a HashReader (src/ledger/proofs.ts): level 0 from
 * ledger_leaves.leaf_hash, levels 8, 16, … from ledger_nodes, exactly the hashes c2sp.org/tlog-tiles
 * serves. `readMany` answers all the ranges of one proof in a single query; with a node cache (the
 * service's), recomputed hashes are kept for later proofs.
 */
import { LedgerError } from '../ledger/errors.ts';
import { HASH_SIZE } from '../ledger/hash.ts';
import type { HashRange, HashReader } from '../ledger/proofs.ts';
import { TILE_HEIGHT, tileRange } from '../ledger/tiles.ts';
import type { Sql } from '../store/db.ts';
import type { LruNodeCache } from './node-cache.ts';

/** A run of stored hashes already read, concatenated (as `readMany`'s query returns them). */
export interface StoredHashes extends HashRange {
  /** How many rows were found, and their hashes concatenated. */
  rows: number;
  hashes: Buffer;
}

/**
 * With `known` (hashes read along with something else), ranges inside it are answered from it and
 * only the rest are read.
 */
export function databaseHashReader(sql: Sql, tenant: string, cache?: LruNodeCache, known?: StoredHashes): HashReader {
  const readMany = async (ranges: readonly HashRange[]): Promise<Buffer[][]> => {
    if (ranges.length === 0) return [];
    for (const { level, start, end } of ranges) {
      if (level % TILE_HEIGHT !== 0 || start < 0 || start > end)
        throw new LedgerError('INVALID_ARGUMENT', `no stored hashes at level ${level} [${start}, ${end})`);
    }
    const inKnown = (r: HashRange) => known !== undefined && r.level === known.level && r.start >= known.start && r.end <= known.end;
    const toRead = ranges.filter((r) => !inKnown(r));
    const read = toRead.length > 0 ? await readStored(sql, tenant, toRead) : [];
    const knownHashes = toRead.length < ranges.length ? split(tenant, known!) : [];
    let next = 0;
    return ranges.map((range) => (inKnown(range) ? knownHashes.slice(range.start - known!.start, range.end - known!.start) : split(tenant, read[next++]!)));
  };
  return {
    read: async (level, start, end) => (await readMany([{ level, start, end }]))[0]!,
    readMany,
    ...(cache ? { cache: cache.forTenant(tenant) } : {}),
  };
}

/** Every range's stored hashes, concatenated, in one round trip. */
async function readStored(sql: Sql, tenant: string, ranges: readonly HashRange[]): Promise<StoredHashes[]> {
  // Each range is an index range scan on its table's primary key, its hashes concatenated into one
  // value (far cheaper to ship and decode than a row per hash).
  const rows = await sql<{ r: number; n: number; hashes: Buffer }[]>`
    select q.r::int as r, x.n, x.hashes
    from unnest(${ranges.map((r) => r.level)}::int2[], ${ranges.map((r) => r.start)}::int8[], ${ranges.map((r) => r.end)}::int8[])
         with ordinality as q(level, s, e, r)
    cross join lateral (
      select count(*)::int as n, coalesce(string_agg(h.hash, ''::bytea order by h.idx), ''::bytea) as hashes
      from (
        select l.seq as idx, l.leaf_hash as hash from ledger_leaves l
        where q.level = 0 and l.tenant_id = ${tenant} and l.seq >= q.s and l.seq < q.e
        union all
        select n.idx, n.hash from ledger_nodes n
        where q.level > 0 and n.tenant_id = ${tenant} and n.level = q.level and n.idx >= q.s and n.idx < q.e
      ) h
    ) x
    order by q.r`;
  return rows.map(({ r, n, hashes }) => ({ ...ranges[r - 1]!, rows: n, hashes }));
}

/** The range's hashes one by one, refusing a run of the wrong length. */
function split(tenant: string, { level, start, end, rows, hashes }: StoredHashes): Buffer[] {
  // A missing row or a stored value of the wrong length would shift every hash after it: refuse
  // the whole range.
  const n = end - start;
  if (rows !== n || hashes.length !== n * HASH_SIZE) {
    throw new LedgerError('INCONSISTENT', `tenant ${tenant}: stored hashes missing or malformed at level ${level} [${start}, ${end})`);
  }
  return Array.from({ length: n }, (_, i) => hashes.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE));
}

/**
 * The bytes of hash tile (level, index) of width `width`: the concatenated 32-byte hashes
 * (c2sp.org/tlog-tiles). The caller checks the tile lies within a published tree size.
 */
export async function readHashTile(sql: Sql, tenant: string, level: number, index: number, width: number): Promise<Buffer> {
  const range = tileRange(level, index, width);
  const [hashes] = await databaseHashReader(sql, tenant).readMany!([range]);
  return Buffer.concat(hashes!);
}
