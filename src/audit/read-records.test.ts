/**
 * ReadRecords (read-records.ts): a record commits to `read_records` and reaches its tenant's ledger
 * exactly once, whether its pass runs on its own, is lost after the append, or races another
 * process's; a record about an event its tenant does not hold is not stored.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/helpers/database.ts';
import { expectContiguousLedger } from '../../test/reliability/ledger-checks.ts';
import type { EventBody } from '../event/types.ts';
import { appendBatch } from '../ingest/append-batch.ts';
import { GroupCommitter } from '../ingest/group-commit.ts';
import { PartitionManager } from '../ingest/partitions.ts';
import { APP_ROLE, connect, type Sql } from '../store/db.ts';
import { createTenant } from '../tenant/tenant-repository.ts';
import { MetaAudit, type AccessRecord } from './meta-audit.ts';
import { ReadRecords } from './read-records.ts';

let db: TestDatabase;
const committers: GroupCommitter[] = [];
beforeAll(async () => {
  db = await createTestDatabase();
  for (const id of ['r1', 'r2', 'r3', 'r4', 'r5']) await createTenant(db.sql, { id });
  await new PartitionManager(db.sql).ensure([new Date().toISOString()]);
});
afterAll(async () => {
  await Promise.all(committers.map((c) => c.close()));
  await db.drop();
});

/** A service's parts, as in one server process. */
function instance(options: { readCommit?: 'flush' | 'async'; delayMs?: number; sql?: Sql } = {}): ReadRecords {
  const sql = options.sql ?? db.sql;
  const committer = new GroupCommitter(sql);
  committers.push(committer);
  return new ReadRecords(sql, committer, new MetaAudit(committer, { readCommit: options.readCommit ?? 'flush' }), { delayMs: options.delayMs ?? 60_000 });
}

const read = (tenant: string, target: string): AccessRecord => ({
  tenant,
  principal: { actor: { type: 'system', id: 'reader', name: 'reader' } },
  action: 'audit_log.viewed',
  targets: [{ type: 'audit_event', id: target }],
});

const body = (n: number): EventBody =>
  ({
    action: 'doc.read',
    occurred_at: new Date().toISOString(),
    actor: { type: 'user', id: `u${n}` },
    targets: [],
    outcome: 'success',
    context: {},
  }) as EventBody;

/** The read records in the tenant's ledger: target ids, in ledger order. */
async function inLedger(tenant: string): Promise<string[]> {
  const rows = await db.sql<{ target: string }[]>`
    select body->'targets'->0->>'id' as target from events where tenant_id = ${tenant} and action = 'audit_log.viewed' order by seq`;
  return rows.map((r) => r.target);
}

const pending = async (tenant: string) => (await db.sql`select id from read_records where tenant_id = ${tenant}`).length;

/** Waits until none of the tenant's records is left in read_records. */
async function untilMoved(tenant: string): Promise<void> {
  for (const started = Date.now(); (await pending(tenant)) > 0; ) {
    if (Date.now() - started > 5000) throw new Error(`the records of ${tenant} were not moved`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('ReadRecords', () => {
  it('commits a record at once and moves it into the ledger by itself, many records per append', async () => {
    const records = instance({ delayMs: 300 });
    await Promise.all(['a', 'b', 'c'].map((target) => records.add(read('r1', target))));
    expect(await records.pending('r1')).toBe(3);
    await untilMoved('r1');
    expect((await inLedger('r1')).sort()).toEqual(['a', 'b', 'c']);
    // One append for the three: their leaves share one received_at.
    const stamps = await db.sql`select distinct received_at from events where tenant_id = 'r1'`;
    expect(stamps).toHaveLength(1);
    await records.stop();
    await expectContiguousLedger(db.ownerSql, 'r1');
  });

  it('stores a conditional record only when its tenant holds the event', async () => {
    const records = instance();
    const [own] = await appendBatch(db.sql, [{ tenant: 'r2', body: body(0) }]);
    const [foreign] = await appendBatch(db.sql, [{ tenant: 'r3', body: body(1) }]);
    const uidOf = (r: typeof own) => (r as { uid: string }).uid;
    expect(await records.add(read('r2', 'own'), uidOf(own))).toBe(true);
    expect(await records.add(read('r2', 'foreign'), uidOf(foreign))).toBe(false);
    expect(await records.add(read('r2', 'missing'), '00000000-0000-7000-8000-000000000000')).toBe(false);
    await records.flush();
    expect(await inLedger('r2')).toEqual(['own']);
    expect(await inLedger('r3')).toEqual([]);
  });

  it('stores a record once when its pass is lost after the append, and when two processes move at once', async () => {
    const first = instance();
    for (let n = 0; n < 40; n++) await first.add(read('r4', `t${n}`));
    // A pass whose append committed but whose delete did not: the ledger holds the first ten records
    // under their ids while read_records still holds them too.
    const stranded = await db.sql<{ id: number; body: EventBody }[]>`select id, body from read_records where tenant_id = 'r4' order by id limit 10`;
    await appendBatch(
      db.sql,
      stranded.map((r) => ({ tenant: 'r4', body: { ...r.body, id: `read-record:${r.id}` } })),
    );
    const second = instance();
    await Promise.all([first.flush(), second.flush(), first.flush()]);
    expect(await pending('r4')).toBe(0);
    expect((await inLedger('r4')).sort()).toEqual(Array.from({ length: 40 }, (_, n) => `t${n}`).sort());
    await expectContiguousLedger(db.ownerSql, 'r4');
  });

  it('moves what a stopped process left once started, and commits without the flush wait when so configured', async () => {
    const statements: string[] = [];
    const traced = connect(db.url, { max: 2, role: APP_ROLE, debug: (s) => statements.push(s) });
    const gone = instance({ readCommit: 'async', sql: traced });
    await gone.add(read('r5', 'left'));
    expect(statements).toContain('set local synchronous_commit = off');
    await traced.end();
    expect(await pending('r5')).toBe(1);
    const next = instance();
    next.start();
    await untilMoved('r5');
    await next.stop();
    expect(await inLedger('r5')).toEqual(['left']);
  });
});
