/**
 * appendPrepared's one-round-trip path (append-batch.ts): from a head this process committed, the
 * insert is sent with the lock instead of after it; when another writer moved the head meanwhile,
 * or a client id is already stored, the attempt is refused by the database and done again, leaving
 * one contiguous tree and the same answers as the two-trip way.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/helpers/database.ts';
import { expectContiguousLedger, recomputedLeafHashes } from '../../test/reliability/ledger-checks.ts';
import type { EventBody } from '../event/types.ts';
import { rootFromLeaves } from '../ledger/merkle.ts';
import { APP_ROLE, connect, type Sql } from '../store/db.ts';
import { createTenant } from '../tenant/tenant-repository.ts';
import { appendBatch } from './append-batch.ts';
import { PartitionManager } from './partitions.ts';

let db: TestDatabase;
const pools: Sql[] = [];
beforeAll(async () => {
  db = await createTestDatabase();
  for (const id of ['one', 'two', 'ids']) await createTenant(db.sql, { id });
  await new PartitionManager(db.sql).ensure([new Date().toISOString()]);
});
afterAll(async () => {
  await Promise.all(pools.map((p) => p.end({ timeout: 5 })));
  await db.drop();
});

/** A writer of its own, like another server process: one connection, its statements recorded. */
function writer(): { sql: Sql; statements: string[] } {
  const statements: string[] = [];
  const sql = connect(db.url, { max: 1, role: APP_ROLE, debug: (s) => statements.push(s) });
  pools.push(sql);
  return { sql, statements };
}

const body = (n: number): EventBody =>
  ({
    action: 'doc.read',
    occurred_at: new Date().toISOString(),
    actor: { type: 'user', id: `u${n}` },
    targets: [],
    outcome: 'success',
    context: {},
  }) as EventBody;
const inserts = (statements: string[]) => statements.filter((s) => s.includes('insert into ledger_leaves')).length;

async function until(condition: () => boolean, what: string): Promise<void> {
  for (const started = Date.now(); !condition(); await new Promise((r) => setTimeout(r, 10))) {
    if (Date.now() - started > 5000) throw new Error(`timed out waiting for ${what}`);
  }
}

describe('appendPrepared from a head it knows', () => {
  it('sends the insert before the head lock is granted, and numbers it right once it is', async () => {
    const a = writer();
    await appendBatch(a.sql, [{ tenant: 'one', body: body(0) }]);
    await appendBatch(a.sql, [{ tenant: 'one', body: body(1) }]);
    // Another transaction holds the head: a two-trip append could not send its insert before it ends.
    const holder = await db.sql.reserve();
    try {
      await holder`begin`;
      await holder`select 1 from ledger_heads where tenant_id = 'one' for update`;
      a.statements.length = 0;
      // With a client id too: ids are not looked up first on this path.
      const appending = appendBatch(a.sql, [{ tenant: 'one', body: { ...body(2), id: 'client-2' } }]);
      await until(() => inserts(a.statements) === 1, 'the insert to be sent');
      expect(a.statements.some((s) => s.includes('for update'))).toBe(true);
      await holder`commit`;
      expect(await appending).toEqual([expect.objectContaining({ status: 'created', seq: 2 })]);
    } finally {
      holder.release();
    }
    expect(inserts(a.statements)).toBe(1);
  });

  it('does an append again when another writer moved the head since, then pauses the attempts, leaving one contiguous tree', async () => {
    const a = writer();
    const b = writer();
    let expected = 0;
    for (let round = 0; round < 8; round++) {
      a.statements.length = 0;
      const [first] = await appendBatch(a.sql, [{ tenant: 'two', body: body(round) }]);
      expect(first).toMatchObject({ status: 'created', seq: expected++ });
      // In round 1, b has moved the head since a's last commit: a's attempt is refused and redone
      // (two inserts sent). Then a appends this tenant the two-trip way for a while: no attempts.
      expect(inserts(a.statements)).toBe(round === 1 ? 2 : 1);
      a.statements.length = 0;
      const [again] = await appendBatch(a.sql, [{ tenant: 'two', body: body(round) }]);
      expect(again).toMatchObject({ status: 'created', seq: expected++ });
      expect(inserts(a.statements)).toBe(1);
      // b likewise: its own head in round 0, moved by a since in round 1 (refused), paused after.
      b.statements.length = 0;
      const moved = await appendBatch(
        b.sql,
        [1, 2, 3].map((n) => ({ tenant: 'two', body: body(100 * round + n) })),
      );
      expect(moved.map((r) => 'seq' in r && r.seq)).toEqual([expected, expected + 1, expected + 2]);
      expect(inserts(b.statements)).toBe(round === 1 ? 2 : 1);
      expected += 3;
    }
    await expectContiguousLedger(db.ownerSql, 'two');
    const [head] = await db.ownerSql<{ size: number; root: Buffer }[]>`select size, root from ledger_heads where tenant_id = 'two'`;
    expect(head!.size).toBe(expected);
    expect(head!.root.equals(rootFromLeaves(await recomputedLeafHashes(db.ownerSql, 'two')))).toBe(true);
  });

  it('answers a stored client id as a duplicate or a conflict, as the two-trip way does, and stores nothing', async () => {
    const a = writer();
    const bodies = [0, 1, 2, 3, 4].map(body); // fixed: body() stamps the time of the call
    const withId = (n: number, id: string) => ({ tenant: 'ids', body: { ...bodies[n]!, id } });
    const [first] = await appendBatch(a.sql, [withId(1, 'x')]);
    expect(first).toMatchObject({ status: 'created', seq: 0 });
    a.statements.length = 0;
    // A retry of the same event, a different event under that id, and a new one, in one batch.
    const again = await appendBatch(a.sql, [withId(1, 'x'), withId(2, 'x'), withId(3, 'y')]);
    expect(again).toEqual([
      { status: 'duplicate', uid: (first as { uid: string }).uid, seq: 0, received_at: (first as { received_at: string }).received_at },
      {
        status: 'conflict',
        uid: (first as { uid: string }).uid,
        seq: 0,
        received_at: (first as { received_at: string }).received_at,
        fields: ['actor'],
      },
      expect.objectContaining({ status: 'created', seq: 1 }),
    ]);
    expect(inserts(a.statements)).toBe(2); // the attempt that took `x` for new, refused by the index, and the redo
    const [next] = await appendBatch(a.sql, [withId(4, 'z')]);
    expect(next).toMatchObject({ status: 'created', seq: 2 });
    await expectContiguousLedger(db.ownerSql, 'ids');
  });
});
