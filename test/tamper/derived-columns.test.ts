/**
 * Issue 16, point 2: the columns reads and searches use, edited as a superuser with the triggers
 * bypassed while the committed body stays as it was. The bundle verifies (it is built from bodies),
 * so the self-audit and `trailproof ledger audit` must name the column and the index themselves.
 * One trail for the file: each case tampers, checks both, and puts the row back as it was.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TxSql } from '../../src/store/db.ts';
import { TEST_LEDGER_KEY } from '../helpers/app.ts';
import { killStartedProcesses, runCli } from '../helpers/server-process.ts';
import { ingestLog, selfAudit, tamper, TENANT, type TamperLog } from './fixture.ts';

let log: TamperLog;
const SEQ = 37;

beforeAll(async () => {
  log = await ingestLog(3, 20);
  // Addresses in the forms PostgreSQL writes differently from the body, so a clean audit shows
  // that the check compares values, not text.
  const ingestKey = await log.t.createKey('ingest', TENANT);
  const events = ['2001:DB8::1', '::ffff:10.0.0.1', '192.0.2.7'].map((ip, i) => ({
    action: 'user.login',
    actor: { type: 'user', id: `ip-${i}` },
    targets: [
      { type: 'session', id: `s-${i}` },
      { type: 'session', id: `s-${i}` },
    ],
    context: { ip },
    occurred_at: '2026-03-01T10:00:00.123456789+05:30',
  }));
  const res = await log.t.request('POST', '/v1/events', { key: ingestKey, body: { events } });
  expect(res.statusCode, res.body).toBe(200);
}, 120_000);

afterAll(async () => {
  await killStartedProcesses();
  await log.t.close();
});

const env = () => ({ DATABASE_URL: log.t.db.url, TRAILPROOF_LEDGER_KEY: TEST_LEDGER_KEY });

/** Tampers, expects the self-audit and the CLI to name `column` at SEQ, then restores the rows. */
async function expectNamed(column: string, edit: (tx: TxSql) => Promise<unknown>, restore: (tx: TxSql) => Promise<unknown>): Promise<void> {
  await tamper(log, async (tx) => void (await edit(tx)));
  try {
    const audit = await selfAudit(log);
    expect(audit.ok).toBe(false);
    expect(audit.first).toMatchObject({ kind: 'modified', index: SEQ });
    expect(audit.first?.detail).toContain(`event's ${column} column`);
    const cli = await runCli(['ledger', 'audit', '--tenant', TENANT], env());
    expect(cli.code, cli.stderr).toBe(1);
    expect(cli.stdout).toContain(`modified at index ${SEQ} — the event's ${column} column does not match`);
  } finally {
    await tamper(log, async (tx) => void (await restore(tx)));
  }
}

const where = (tx: TxSql) => tx`tenant_id = ${TENANT} and seq = ${SEQ}`;

describe('a derived column edited behind the service is named by the self-audit and `ledger audit`', () => {
  it('untampered (with IPv6, mapped IPv4, nanosecond times and duplicate targets): clean', async () => {
    expect(await selfAudit(log)).toMatchObject({ ok: true, first: null });
    const cli = await runCli(['ledger', 'audit', '--tenant', TENANT, '--json'], env());
    expect(cli.code, cli.stderr).toBe(0);
  }, 60_000);

  for (const column of ['action', 'actor_type', 'actor_id', 'outcome']) {
    it(`${column}`, async () => {
      let before = '';
      await expectNamed(
        column,
        async (tx) => {
          const [row] = await tx<{ v: string }[]>`select ${tx(column)} as v from events where ${where(tx)}`;
          before = row!.v;
          await tx`update events set ${tx(column)} = 'forged' where ${where(tx)}`;
        },
        (tx) => tx`update events set ${tx(column)} = ${before} where ${where(tx)}`,
      );
    }, 60_000);
  }

  it('ip', async () => {
    await expectNamed(
      'ip',
      (tx) => tx`update events set ip = '203.0.113.9' where ${where(tx)}`,
      (tx) => tx`update events set ip = null where ${where(tx)}`,
    );
  }, 60_000);

  it('occurred_at (moved with its leaf and target rows, so every join still holds)', async () => {
    const shift = async (tx: TxSql, hours: number) => {
      for (const table of ['events', 'event_targets', 'ledger_leaves'])
        await tx`update ${tx(table)} set occurred_at = occurred_at + make_interval(hours => ${hours}) where ${where(tx)}`;
    };
    await expectNamed(
      'occurred_at',
      (tx) => shift(tx, -1),
      (tx) => shift(tx, 1),
    );
  }, 60_000);

  it('uid and received_at (copied from the leaf)', async () => {
    await expectNamed(
      'uid',
      (tx) => tx`update events set uid = '00000000-0000-7000-8000-000000000000' where ${where(tx)}`,
      (tx) =>
        tx`update events e set uid = l.uid from ledger_leaves l where l.tenant_id = e.tenant_id and l.seq = e.seq and e.tenant_id = ${TENANT} and e.seq = ${SEQ}`,
    );
    await expectNamed(
      'received_at',
      (tx) => tx`update events set received_at = received_at - interval '1 day' where ${where(tx)}`,
      (tx) => tx`update events set received_at = received_at + interval '1 day' where ${where(tx)}`,
    );
  }, 60_000);

  it("client_id (the body's id, on the leaf)", async () => {
    await expectNamed(
      'client_id',
      (tx) => tx`update ledger_leaves set client_id = 'forged' where ${where(tx)}`,
      (tx) => tx`update ledger_leaves set client_id = null where ${where(tx)}`,
    );
  }, 60_000);

  it('event_targets: a row removed, a row added, a row changed, a row moved in time', async () => {
    const row = async (tx: TxSql) =>
      (
        await tx<
          { target_type: string; target_id: string; occurred_at: Date }[]
        >`select target_type, target_id, occurred_at from event_targets where ${where(tx)}`
      )[0]!;
    let saved: Awaited<ReturnType<typeof row>> | undefined;
    const put = (tx: TxSql) => tx`insert into event_targets (tenant_id, target_type, target_id, occurred_at, seq)
      values (${TENANT}, ${saved!.target_type}, ${saved!.target_id}, ${saved!.occurred_at}, ${SEQ})`;
    await expectNamed(
      'event_targets',
      async (tx) => {
        saved = await row(tx);
        await tx`delete from event_targets where ${where(tx)}`;
      },
      put,
    );
    await expectNamed(
      'event_targets',
      (tx) =>
        tx`insert into event_targets (tenant_id, target_type, target_id, occurred_at, seq) values (${TENANT}, 'document', 'forged', ${saved!.occurred_at}, ${SEQ})`,
      (tx) => tx`delete from event_targets where ${where(tx)} and target_id = 'forged'`,
    );
    await expectNamed(
      'event_targets',
      (tx) => tx`update event_targets set target_id = 'forged' where ${where(tx)}`,
      (tx) => tx`update event_targets set target_id = ${saved!.target_id} where ${where(tx)}`,
    );
    await expectNamed(
      'event_targets',
      (tx) => tx`update event_targets set occurred_at = occurred_at - interval '1 day' where ${where(tx)}`,
      (tx) => tx`update event_targets set occurred_at = occurred_at + interval '1 day' where ${where(tx)}`,
    );
    expect(await selfAudit(log)).toMatchObject({ ok: true });
  }, 120_000);
});
