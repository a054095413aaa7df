import { afterAll, describe, expect, it } from 'vitest';
import { validateEvent } from '../event/validate.ts';
import { GroupCommitter } from '../ingest/group-commit.ts';
import { createTenant } from '../tenant/tenant-repository.ts';
import { testHashReader } from '../../test/contract/hash-reader-contract.ts';
import { createTestDatabase, type TestDatabase } from '../../test/helpers/database.ts';
import { recomputedLeafHashes } from '../../test/reliability/ledger-checks.ts';
import { databaseHashReader, type StoredHashes } from './hash-reader.ts';

let db: TestDatabase | undefined;
afterAll(() => db?.drop());

/** One tenant `acme` of `n` leaves, built once for every test here. */
let built: Promise<Buffer[]> | undefined;
function buildTree(n: number): Promise<Buffer[]> {
  built ??= (async () => {
    db = await createTestDatabase();
    await createTenant(db.sql, { id: 'acme' });
    const committer = new GroupCommitter(db.sql);
    // Uneven batches, so tile-level nodes are completed across batch boundaries.
    for (let done = 0; done < n; ) {
      const count = Math.min(n - done, 97 + (done % 200));
      const items = Array.from({ length: count }, (_, i) => {
        const checked = validateEvent({ action: 'document.read', actor: { type: 'user', id: `u${done + i}` } }, { now: new Date() });
        if (!checked.ok) throw new Error('invalid test event');
        return { tenant: 'acme', body: checked.body };
      });
      await committer.append(items);
      done += count;
    }
    await committer.close();
    return recomputedLeafHashes(db.sql, 'acme');
  })();
  return built;
}

const knownTile = (leaves: Buffer[], start: number, end: number): StoredHashes => ({
  level: 0,
  start,
  end,
  rows: end - start,
  hashes: Buffer.concat(leaves.slice(start, end)),
});

testHashReader('database (ledger_leaves + ledger_nodes)', async (n) => {
  const leaves = await buildTree(n);
  return { reader: databaseHashReader(db!.sql, 'acme'), leaves };
});

// The proof route hands the reader the leaf's tile, read along with the leaf: same contract.
testHashReader('database, with a tile already read', async (n) => {
  const leaves = await buildTree(n);
  return { reader: databaseHashReader(db!.sql, 'acme', undefined, knownTile(leaves, 256, 512)), leaves };
});

describe('databaseHashReader with hashes already read', () => {
  it('answers ranges inside them without reading, and reads the rest', async () => {
    const leaves = await buildTree(600);
    // Well-formed but not the stored hashes: only an answer from `known` can contain them.
    const marked = Array.from({ length: 256 }, (_, i) => Buffer.alloc(32, i));
    const reader = databaseHashReader(db!.sql, 'acme', undefined, { level: 0, start: 256, end: 512, rows: 256, hashes: Buffer.concat(marked) });
    const [inside, across, level8] = await reader.readMany!([
      { level: 0, start: 300, end: 310 },
      { level: 0, start: 500, end: 520 },
      { level: 8, start: 0, end: 2 },
    ]);
    expect(inside).toEqual(marked.slice(44, 54));
    expect(across).toEqual(leaves.slice(500, 520)); // not wholly inside: read from the database
    expect(level8).toHaveLength(2);
  });

  it('refuses hashes already read that are short of rows or of bytes, as it refuses stored ones', async () => {
    const leaves = await buildTree(600);
    const short = { ...knownTile(leaves, 0, 256), rows: 255 };
    await expect(databaseHashReader(db!.sql, 'acme', undefined, short).read(0, 3, 4)).rejects.toMatchObject({ code: 'INCONSISTENT' });
    const cut = { ...knownTile(leaves, 0, 256), hashes: Buffer.concat(leaves.slice(0, 256)).subarray(1) };
    await expect(databaseHashReader(db!.sql, 'acme', undefined, cut).read(0, 3, 4)).rejects.toMatchObject({ code: 'INCONSISTENT' });
  });
});
