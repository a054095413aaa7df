/**
 * appendPrepared's one-round-trip path (append-batch.ts): from a head this process committed, the
 * insert is sent with the lock instead of after it; when another writer moved the head meanwhile,
 * the attempt is refused by the database and done again, leaving one contiguous tree.
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
  for (const id of ['one', 'two']) await createTenant(db.sql, { id });
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

const body = (n: number): EventBody => ({
  action: 'doc.read', occurred_at: new Date().toISOString(), actor: { type: 'user', id: `u${n}` }, targets: [], outcome: 'success', context: {},
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
      const appending = appendBatch(a.sql, [{ tenant: 'one', body: body(2) }]);
      await until(() => inserts(a.statements) === 1, 'the insert to be sent');
      expect(a.statements.some((s) => s.includes('for update'))).toBe(true);
      await holder`commit`;
      expect(await appending).toEqual([expect.objectContaining({ status: 'created', seq: 2 })]);
    } finally {
      holder.release();
    }
    expect(inserts(a.statements)).toBe(1);
  });

  it('does an append again when another writer moved the head since, leaving one contiguous tree', async () => {
    const a = writer();
    const b = writer();
    let expected = 0;
    for (let round = 0; round < 8; round++) {
      a.statements.length = 0;
      const [first] = await appendBatch(a.sql, [{ tenant: 'two', body: body(round) }]);
      expect(first).toMatchObject({ status: 'created', seq: expected++ });
      // After the first round, b moved the head since a's last commit: a's attempt is refused and redone.
      expect(inserts(a.statements)).toBe(round === 0 ? 1 : 2);
      a.statements.length = 0;
      const [again] = await appendBatch(a.sql, [{ tenant: 'two', body: body(round) }]);
      expect(again).toMatchObject({ status: 'created', seq: expected++ });
      expect(inserts(a.statements)).toBe(1); // its own head: one attempt
      const moved = await appendBatch(b.sql, [1, 2, 3].map((n) => ({ tenant: 'two', body: body(100 * round + n) })));
      expect(moved.map((r) => 'seq' in r && r.seq)).toEqual([expected, expected + 1, expected + 2]);
      expected += 3;
    }
    await expectContiguousLedger(db.ownerSql, 'two');
    const [head] = await db.ownerSql<{ size: number; root: Buffer }[]>`select size, root from ledger_heads where tenant_id = 'two'`;
    expect(head!.size).toBe(expected);
    expect(head!.root.equals(rootFromLeaves(await recomputedLeafHashes(db.ownerSql, 'two')))).toBe(true);
  });
});
