/**
 * The stored tree of one tenant as a HashReader (src/ledger/proofs.ts): level 0 from
 * ledger_leaves.leaf_hash, levels 8, 16, … from ledger_nodes, exactly the hashes c2sp.org/tlog-tiles
 * serves. `readMany` answers all the ranges of one proof in a single query.
 */
import { TrailproofError } from '../errors.ts';
import type { HashRange, HashReader } from '../ledger/proofs.ts';
import { TILE_HEIGHT, tileRange } from '../ledger/tiles.ts';
import type { Sql } from '../store/db.ts';

export function databaseHashReader(sql: Sql, tenant: string): HashReader {
  const readMany = async (ranges: readonly HashRange[]): Promise<Buffer[][]> => {
    if (ranges.length === 0) return [];
    for (const { level, start, end } of ranges) {
      if (level % TILE_HEIGHT !== 0 || start < 0 || start > end) throw new TrailproofError('INTERNAL', `no stored hashes at level ${level} [${start}, ${end})`);
    }
    // One round trip for every range: each range is an index range scan on its table's primary key.
    const rows = await sql<{ r: number; hash: Buffer }[]>`
      select q.r::int as r, x.hash
      from unnest(${ranges.map((r) => r.level)}::int2[], ${ranges.map((r) => r.start)}::int8[], ${ranges.map((r) => r.end)}::int8[])
           with ordinality as q(level, s, e, r)
      cross join lateral (
        select l.seq as idx, l.leaf_hash as hash from ledger_leaves l
        where q.level = 0 and l.tenant_id = ${tenant} and l.seq >= q.s and l.seq < q.e
        union all
        select n.idx, n.hash from ledger_nodes n
        where q.level > 0 and n.tenant_id = ${tenant} and n.level = q.level and n.idx >= q.s and n.idx < q.e
      ) x
      order by q.r, x.idx`;
    const out: Buffer[][] = ranges.map(() => []);
    for (const row of rows) out[row.r - 1]!.push(row.hash);
    ranges.forEach(({ level, start, end }, i) => {
      if (out[i]!.length !== end - start) throw new TrailproofError('INTERNAL', `tenant ${tenant}: stored hashes missing at level ${level} [${start}, ${end})`);
    });
    return out;
  };
  return {
    read: async (level, start, end) => (await readMany([{ level, start, end }]))[0]!,
    readMany,
  };
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
