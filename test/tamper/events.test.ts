/**
 * Acceptance 2 (issue 3), events: each test ingests a trail through the API, edits the database
 * directly as a superuser with the triggers bypassed, then exports the bundle and checks that both
 * `verify` and the self-audit name the kind of tampering and the first bad index.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { commitment, eventLeafHash, newSalt } from '../../src/ledger/envelope.ts';
import { uuidv7 } from '../../src/ingest/uid.ts';
import { killStartedProcesses } from '../helpers/server-process.ts';
import { ingestLog, moveSeq, rebuildDerived, selfAudit, shiftSeq, tamper, TENANT, verifyInProcess, verifyWithCli, type TamperLog } from './fixture.ts';

let log: TamperLog | undefined;
afterEach(async () => {
  await killStartedProcesses();
  await log?.t.close();
  log = undefined;
});

/** The checkpoint sizes around `index`: the first bad leaf lies in [below, above) when only roots show it. */
function around(l: TamperLog, index: number): [number, number] {
  return [Math.max(0, ...l.checkpointSizes.filter((s) => s <= index)), Math.min(...l.checkpointSizes.filter((s) => s > index))];
}

describe('tampering with events is detected and named', () => {
  it('untampered: the bundle verifies clean (exit 0) and so does the self-audit', async () => {
    log = await ingestLog();
    const { code, report } = await verifyWithCli(log, { since: log.saved });
    expect(report.findings).toEqual([]);
    expect(code).toBe(0);
    expect(report).toMatchObject({ ok: true, leaves: log.size, since: { ok: true }, checkpoints: { verified: log.checkpointSizes.length } });
    expect(await selfAudit(log)).toMatchObject({ ok: true, size: log.size, first: null });
  }, 120_000);

  it('one field of an event body changed: modified at that index', async () => {
    log = await ingestLog();
    await tamper(log, (tx) =>
      tx`update events set body = jsonb_set(body, '{actor,id}', '"mallory"') where tenant_id = ${TENANT} and seq = 137`.then(() => undefined),
    );
    const { code, report } = await verifyWithCli(log);
    expect(code).toBe(1);
    expect(report.first).toMatchObject({ kind: 'modified', index: 137 });
    expect((await selfAudit(log)).first).toMatchObject({ kind: 'modified', index: 137 });
  }, 120_000);

  it('body, commitment and every derived hash rewritten: modified, between the checkpoints around it', async () => {
    log = await ingestLog();
    const l = log;
    await tamper(log, async (tx) => {
      const [row] = await tx<{ body: Record<string, unknown> }[]>`select body from events where tenant_id = ${TENANT} and seq = 137`;
      const body = { ...row!.body, outcome: 'failure' };
      const salt = newSalt();
      await tx`update events set body = ${tx.json(body as never)}, salt = ${salt} where tenant_id = ${TENANT} and seq = 137`;
      await tx`update ledger_leaves set commitment = ${commitment(salt, body)} where tenant_id = ${TENANT} and seq = 137`;
      await rebuildDerived(tx);
    });
    const [below, above] = around(l, 137);
    const report = await verifyInProcess(l);
    expect(report.first).toMatchObject({ kind: 'modified', index: below, range: [below, above] });
    expect((await selfAudit(l)).first).toMatchObject({ kind: 'modified', index: below, range: [below, above] });
  }, 120_000);

  it('an event deleted (event and leaf rows): missing at its index', async () => {
    log = await ingestLog();
    await tamper(log, async (tx) => {
      for (const table of ['events', 'event_targets', 'ledger_leaves']) await tx`delete from ${tx(table)} where tenant_id = ${TENANT} and seq = 88`;
    });
    const { code, report } = await verifyWithCli(log);
    expect(code).toBe(1);
    expect(report.first).toMatchObject({ kind: 'missing', index: 88 });
    expect((await selfAudit(log)).first).toMatchObject({ kind: 'missing', index: 88 });
  }, 120_000);

  it('a forged event inserted in the middle (later ones renumbered, all hashes redone): inserted at its index', async () => {
    log = await ingestLog();
    await tamper(log, async (tx) => {
      const [next] = await tx<
        { occurred_at: Date; body: Record<string, unknown> }[]
      >`select occurred_at, body from events where tenant_id = ${TENANT} and seq = 150`;
      await shiftSeq(tx, 150, 1);
      const body = { ...next!.body, action: 'user.role_granted', actor: { type: 'user', id: 'mallory' } };
      const salt = newSalt();
      const uid = uuidv7();
      const receivedAt = new Date().toISOString();
      const c = commitment(salt, body);
      const leafHash = eventLeafHash({ tenant: TENANT, index: 150, uid, received_at: receivedAt, commitment: c });
      await tx`insert into ledger_leaves (tenant_id, seq, uid, received_at, commitment, leaf_hash, occurred_at) values (${TENANT}, 150, ${uid}, ${receivedAt}, ${c}, ${leafHash}, ${next!.occurred_at})`;
      await tx`insert into events (tenant_id, seq, uid, occurred_at, received_at, action, actor_type, actor_id, outcome, body, salt)
               values (${TENANT}, 150, ${uid}, ${next!.occurred_at}, ${receivedAt}, 'user.role_granted', 'user', 'mallory', 'success', ${tx.json(body as never)}, ${salt})`;
      await rebuildDerived(tx);
    });
    expect((await verifyInProcess(log)).first).toMatchObject({ kind: 'inserted', index: 150 });
    expect((await selfAudit(log)).first).toMatchObject({ kind: 'inserted', index: 150 });
  }, 120_000);

  it('two events swapped (all hashes redone): reordered at the first', async () => {
    log = await ingestLog();
    await tamper(log, async (tx) => {
      await moveSeq(tx, 101, -5);
      await moveSeq(tx, 123, 101);
      await moveSeq(tx, -5, 123);
      await rebuildDerived(tx);
    });
    const { code, report } = await verifyWithCli(log);
    expect(code).toBe(1);
    expect(report.first).toMatchObject({ kind: 'reordered', index: 101 });
    expect((await selfAudit(log)).first).toMatchObject({ kind: 'reordered', index: 101 });
  }, 120_000);

  it('the tail truncated (last leaves deleted, head moved back): truncated at the first missing index', async () => {
    log = await ingestLog();
    const keep = log.size - 7;
    await tamper(log, async (tx) => {
      for (const table of ['events', 'event_targets', 'ledger_leaves']) await tx`delete from ${tx(table)} where tenant_id = ${TENANT} and seq >= ${keep}`;
      await rebuildDerived(tx);
    });
    const { code, report } = await verifyWithCli(log);
    expect(code).toBe(1);
    expect(report.first).toMatchObject({ kind: 'truncated', index: keep, checkpoint_size: log.size });
    expect((await selfAudit(log)).first).toMatchObject({ kind: 'truncated', index: keep });
  }, 120_000);
});
