/**
 * Issue 18 point 8: the database enforces the lifecycle. The service role still cannot update or
 * delete the trail, not even with the removal setting set; trailproof_remove_payloads removes only
 * what a removal record in the ledger covers (its range, received before its cutoff), never a
 * lifecycle record or a held event, never another tenant's, and leaves every leaf and tile in place.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removePayloads } from '../../src/lifecycle/payload-removal.ts';
import { appendReceivedAgo, DAY_MS as DAY } from '../helpers/aged-events.ts';
import { createTestApp, type TestApp } from '../helpers/app.ts';

let t: TestApp;
const lifecycle = { actor: { type: 'system' as const, id: 'lifecycle', name: 'lifecycle' } };

const ingestAt = (daysAgo: number, tenant: string, events: object[]) => appendReceivedAgo(t.db.sql, tenant, daysAgo, events);

async function purgeRecord(tenant: string, metadata: Record<string, unknown>): Promise<number> {
  const result = await t.services.audit.record({ tenant, principal: lifecycle, action: 'retention.purged', metadata });
  if (result.status !== 'created') throw new Error(result.status);
  return result.seq;
}

const old = (i: number) => ({
  action: 'document.read',
  actor: { type: 'user', id: i % 2 === 0 ? 'alice' : 'bob' },
  targets: [{ type: 'document', id: `d${i}` }],
});

const counts = async (tenant: string) =>
  (
    await t.db.ownerSql<{ events: number; targets: number; leaves: number; nodes: number }[]>`
    select (select count(*)::int from events where tenant_id = ${tenant}) as events,
           (select count(*)::int from event_targets where tenant_id = ${tenant}) as targets,
           (select count(*)::int from ledger_leaves where tenant_id = ${tenant}) as leaves,
           (select count(*)::int from ledger_nodes where tenant_id = ${tenant}) as nodes`
  )[0]!;

beforeAll(async () => {
  t = await createTestApp();
  await t.createTenant('acme');
  await t.createTenant('globex');
});
afterAll(() => t.close());

describe('the service role still cannot change the trail', () => {
  it.each(['delete from events', 'delete from event_targets', "update events set action = 'x'"])(
    'refused with the removal setting set: %s',
    async (statement) => {
      await expect(
        t.db.sql.begin(async (tx) => {
          await tx`set local trailproof.removal = 'payloads'`;
          await tx.unsafe(statement);
        }),
      ).rejects.toMatchObject({ code: '42501' });
    },
  );

  it('the owner is refused an UPDATE and a TRUNCATE even with the setting set', async () => {
    for (const statement of ["update events set action = 'x'", 'truncate events', 'delete from ledger_leaves']) {
      await expect(
        t.db.ownerSql.begin(async (tx) => {
          await tx`set local trailproof.removal = 'payloads'`;
          await tx.unsafe(statement);
        }),
      ).rejects.toThrow(/append-only/);
    }
  });

  it('the service role cannot write removals or delete holds directly', async () => {
    await expect(
      t.db.sql`insert into payload_removals (tenant_id, record_seq, action, range_start, range_end, count) values ('acme', 0, 'x', 0, 1, 1)`,
    ).rejects.toMatchObject({
      code: '42501',
    });
    await expect(t.db.sql`delete from legal_holds`).rejects.toMatchObject({ code: '42501' });
  });
});

describe('trailproof_remove_payloads', () => {
  it('refuses an index that holds no removal record: a client event, a missing one', async () => {
    const [seq] = await ingestAt(400, 'acme', [old(0)]);
    await expect(removePayloads(t.db.sql, 'acme', seq!, [0, 1])).rejects.toMatchObject({ code: '42501' });
    await expect(removePayloads(t.db.sql, 'acme', 9999, [0, 1])).rejects.toMatchObject({ code: '42501' });
    // Another tenant's record authorises nothing here.
    const foreign = await purgeRecord('globex', {
      range_start: 0,
      range_end: 1,
      cutoff: new Date().toISOString(),
      decided_at: new Date().toISOString(),
      count: 0,
    });
    await expect(removePayloads(t.db.sql, 'acme', foreign, [0, 1])).rejects.toMatchObject({ code: '42501' });
    expect((await counts('acme')).events).toBe(1);
  });

  it('removes what the record covers, keeps held events and lifecycle records, leaves leaves and tiles', async () => {
    const olds = await ingestAt(
      400,
      'acme',
      Array.from({ length: 9 }, (_, i) => old(i + 1)),
    );
    // A lifecycle record of the same age, inside the range.
    const [policy] = await appendReceivedAgo(t.db.sql, 'acme', 400, [{ action: 'retention.updated', actor: lifecycle.actor, metadata: { days: 365 } }], {
      service: true,
    });
    const young = await ingestAt(10, 'acme', [old(20), old(21)]);
    await ingestAt(400, 'globex', [old(30)]);
    // Bob's events are held (a hold in force when the purge was decided).
    await t.db
      .ownerSql`insert into legal_holds (id, tenant_id, reason, actor_id, created_at, created_by) values ('h1', 'acme', 'case 7', 'bob', clock_timestamp(), 'test')`;
    const before = await counts('acme');
    const now = new Date();
    const rangeEnd = young.at(-1)! + 1;
    const record = await purgeRecord('acme', {
      range_start: 0,
      range_end: rangeEnd,
      cutoff: new Date(now.getTime() - 365 * DAY).toISOString(),
      decided_at: now.toISOString(),
      count: 5,
    });
    const removed = await removePayloads(t.db.sql, 'acme', record, [0, rangeEnd], { chunk: 3 });
    // Alice's old events: seq 0 (i=0) and i=2,4,6,8 → 5; bob's (held), the policy record and the young ones stay.
    expect(removed).toBe(5);
    expect(await removePayloads(t.db.sql, 'acme', record, [0, rangeEnd])).toBe(0);
    const after = await counts('acme');
    expect(after).toEqual({ events: before.events + 1 - 5, targets: before.targets + 1 - 5, leaves: before.leaves + 1, nodes: before.nodes });
    const left = await t.db.ownerSql<{ seq: number; actor_id: string }[]>`select seq, actor_id from events where tenant_id = 'acme' order by seq`;
    expect(left.map((r) => r.seq)).toEqual([...olds.filter((_, i) => i % 2 === 0), policy!, ...young, record]);
    expect((await counts('globex')).events).toBe(2);
    const [log] = await t.db.sql<
      { count: number; range_end: number }[]
    >`select count, range_end from payload_removals where tenant_id = 'acme' and record_seq = ${record}`;
    expect(log).toEqual({ count: 5, range_end: rangeEnd });
  });

  it('a hold created after the purge was decided does not change what the record covers', async () => {
    const [seq] = await ingestAt(400, 'acme', [{ ...old(40), actor: { type: 'user', id: 'carol' } }]);
    const decided = new Date();
    await t.db
      .ownerSql`insert into legal_holds (id, tenant_id, reason, actor_id, created_at, created_by) values ('h2', 'acme', 'late', 'carol', clock_timestamp(), 'test')`;
    const record = await purgeRecord('acme', {
      range_start: seq!,
      range_end: seq! + 1,
      cutoff: new Date(decided.getTime() - 365 * DAY).toISOString(),
      decided_at: decided.toISOString(),
      count: 1,
    });
    expect(await removePayloads(t.db.sql, 'acme', record, [seq!, seq! + 1])).toBe(1);
  });
});
