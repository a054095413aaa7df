import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/helpers/database.ts';
import type { EventBody } from '../event/types.ts';
import { createTenant } from '../tenant/tenant-repository.ts';
import postgres from 'postgres';
import { connect } from '../store/db.ts';
import { appendBatch } from './append-batch.ts';
import { MetaAudit } from '../audit/meta-audit.ts';
import { GroupCommitter } from './group-commit.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
  for (const id of ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'x', 'y']) await createTenant(db.sql, { id });
});
afterAll(() => db.drop());

const body = (n: number): EventBody =>
  ({
    action: 'doc.read',
    occurred_at: new Date().toISOString(),
    actor: { type: 'user', id: `u${n}` },
    targets: [],
    outcome: 'success',
    context: {},
  }) as EventBody;

describe('GroupCommitter', () => {
  it('shares transactions, keeps each tenant in arrival order and leaves no gap', async () => {
    const committer = new GroupCommitter(db.sql, { maxInFlight: 4 });
    const tenants = ['a', 'b', 'c'];
    const submitted = Array.from({ length: 600 }, (_, n) => ({ tenant: tenants[n % 3]!, n }));
    const results = await Promise.all(submitted.map((s) => committer.append([{ tenant: s.tenant, body: body(s.n) }])));
    await committer.close();

    for (const tenant of tenants) {
      const seqs = submitted.flatMap((s, i) => (s.tenant === tenant ? [results[i]![0]] : [])).map((r) => (r && 'seq' in r ? r.seq : -1));
      expect(seqs).toEqual(Array.from({ length: 200 }, (_, i) => i));
    }
    const [tx] = await db.sql<{ transactions: number }[]>`select count(distinct received_at)::int as transactions from ledger_leaves`;
    // 600 requests did not need 600 transactions.
    expect(tx!.transactions).toBeLessThan(300);
  });

  it('settles every request after close() was called for work already queued, and refuses new work', async () => {
    const committer = new GroupCommitter(db.sql);
    const pending = Array.from({ length: 20 }, (_, n) => committer.append([{ tenant: 'a', body: body(n) }]));
    const closing = committer.close();
    await expect(committer.append([{ tenant: 'a', body: body(99) }])).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    const settled = await Promise.all(pending);
    await closing;
    expect(settled.every((r) => r[0]?.status === 'created')).toBe(true);
  });

  it('rolls a failed append back whole (the pipelined COMMIT never commits it) and keeps the connection usable', async () => {
    // An address PostgreSQL refuses (validation normally stops it): the insert fails after the head lock.
    const bad = { ...body(1), context: { ip: 'not-an-address' } } as EventBody;
    await expect(
      appendBatch(db.sql, [
        { tenant: 'd', body: body(0) },
        { tenant: 'd', body: bad },
      ]),
    ).rejects.toThrow(/inet/);
    const [head] = await db.sql<{ size: number }[]>`select size from ledger_heads where tenant_id = 'd'`;
    expect(head!.size).toBe(0);
    expect((await db.sql`select 1 from ledger_leaves where tenant_id = 'd'`).length).toBe(0);
    const [again] = await appendBatch(db.sql, [{ tenant: 'd', body: body(2) }]);
    expect(again).toMatchObject({ status: 'created', seq: 0 });
  });

  it('stores the requests that shared a transaction with a refused one, and refuses only that one', async () => {
    const committer = new GroupCommitter(db.sql);
    const bad = { ...body(1), context: { ip: 'not-an-address' } } as EventBody;
    const requests = Array.from({ length: 6 }, (_, n) => committer.append([{ tenant: 'e', body: n === 3 ? bad : body(n) }]));
    const settled = await Promise.allSettled(requests);
    await committer.close();
    expect(settled[3]).toMatchObject({ status: 'rejected', reason: { code: 'UNAVAILABLE' } });
    const seqs = settled.filter((_s, n) => n !== 3).map((s) => (s.status === 'fulfilled' && s.value[0] && 'seq' in s.value[0] ? s.value[0].seq : -1));
    expect(seqs.sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4]);
  });

  it('skips the WAL-flush wait only for a transaction of read records, and only when configured to', async () => {
    const statements: string[] = [];
    const traced = postgres(db.url, {
      max: 2,
      onnotice: () => {},
      debug: (_c, query) => statements.push(query.trim()),
      types: { bigint: { to: 20, from: [20], serialize: (v: number) => String(v), parse: (v: string) => Number(v) } },
    });
    try {
      const committer = new GroupCommitter(traced as never);
      const read = (audit: MetaAudit) =>
        audit.record({ tenant: 'f', principal: { actor: { type: 'system', id: 't', name: 't' } }, action: 'audit_log.viewed' });
      const written = (audit: MetaAudit) =>
        audit.record({ tenant: 'f', principal: { actor: { type: 'system', id: 't', name: 't' } }, action: 'api_key.created' });
      const asyncReads = new MetaAudit(committer, { readCommit: 'async' });
      const relaxed = (s: string) => s === 'set local synchronous_commit = off';

      await read(asyncReads);
      expect(statements.filter(relaxed)).toHaveLength(1);
      statements.length = 0;
      await read(new MetaAudit(committer)); // default: flush
      await written(asyncReads); // not a read
      expect(statements.filter(relaxed)).toHaveLength(0);
      // A read sharing its transaction with an ordinary event waits for the flush like the event.
      statements.length = 0;
      await Promise.all([read(asyncReads), committer.append([{ tenant: 'f', body: body(7) }]), read(asyncReads)]);
      const transactions = statements.filter((s) => s === 'begin').length;
      expect(statements.filter(relaxed).length).toBeLessThan(transactions);
      await committer.close();
      const [count] = await db.sql<{ n: number }[]>`select count(*)::int as n from ledger_leaves where tenant_id = 'f'`;
      expect(count!.n).toBe(6);
    } finally {
      await traced.end();
    }
  });

  it("does not hold one tenant's small requests behind another tenant's stuck transaction, and batches them", async () => {
    const committer = new GroupCommitter(db.sql, { minParallelEvents: 256, maxParallelWaitMs: 20 });
    // Tenant g's head is locked elsewhere, so g's transaction waits in PostgreSQL.
    const holder = await db.ownerSql.reserve();
    await holder`begin`;
    await holder`select 1 from ledger_heads where tenant_id = 'g' for update`;
    try {
      const stuck = committer.append([{ tenant: 'g', body: body(0) }]);
      await new Promise((r) => setTimeout(r, 50));
      const started = performance.now();
      const small = await Promise.all(Array.from({ length: 5 }, (_, n) => committer.append([{ tenant: 'h', body: body(n) }])));
      expect(performance.now() - started).toBeLessThan(2000);
      expect(small.map((r) => r[0]?.status)).toEqual(['created', 'created', 'created', 'created', 'created']);
      // The five waited for each other (up to maxParallelWaitMs) and shared one transaction.
      const [h] = await db.sql<{ n: number }[]>`select count(distinct received_at)::int as n from ledger_leaves where tenant_id = 'h'`;
      expect(h!.n).toBe(1);
      await holder`rollback`;
      expect((await stuck)[0]?.status).toBe('created');
    } finally {
      await holder`rollback`.catch(() => {});
      holder.release();
      await committer.close();
    }
  });

  it('does not store again the requests of a shared transaction whose connection was lost: each fails, and nothing is stored', async () => {
    // One transaction at a time, so the two requests for y queue behind x's and then share one.
    const committer = new GroupCommitter(db.sql, { maxInFlight: 1 });
    const owner = connect(db.url, { max: 3 }); // two holding locks, one to look and terminate
    const holdX = await owner.reserve();
    const holdY = await owner.reserve();
    try {
      for (const [hold, tenant] of [
        [holdX, 'x'],
        [holdY, 'y'],
      ] as const) {
        await hold`begin`;
        await hold`select 1 from ledger_heads where tenant_id = ${tenant} for update`;
      }
      const first = committer.append([{ tenant: 'x', body: body(0) }]);
      const shared = [1, 2].map((n) =>
        committer.append([{ tenant: 'y', body: body(n) }]).then(
          () => 'stored',
          (err: unknown) => err,
        ),
      );
      await holdX`commit`;
      await first;
      // The shared transaction now waits for y's head; its backend is terminated there, so its
      // client cannot know whether it would have committed.
      let pid: number | undefined;
      for (const started = Date.now(); pid === undefined && Date.now() - started < 5000; await new Promise((r) => setTimeout(r, 10))) {
        const [row] = await owner<{ pid: number }[]>`
          select pid from pg_stat_activity where wait_event_type = 'Lock' and query like '%from ledger_heads%for update%' and pid <> pg_backend_pid()`;
        pid = row?.pid;
      }
      expect(pid, 'the shared transaction waiting for the head').toBeDefined();
      await owner`select pg_terminate_backend(${pid!})`;
      const outcomes = await Promise.all(shared);
      for (const outcome of outcomes) expect(outcome).toMatchObject({ code: 'UNAVAILABLE' });
      await holdY`commit`;
      await committer.close();
      const [stored] = await owner<{ n: number }[]>`select count(*)::int as n from ledger_leaves where tenant_id = 'y'`;
      expect(stored!.n).toBe(0);
      // The pool goes on: the next append to y is its first event.
      const after = new GroupCommitter(db.sql);
      expect(await after.append([{ tenant: 'y', body: body(3) }])).toEqual([expect.objectContaining({ status: 'created', seq: 0 })]);
      await after.close();
    } finally {
      holdX.release();
      holdY.release();
      await owner.end({ timeout: 1 });
    }
  });
});
