/**
 * Acceptance 2 (issue 3), checkpoints and whole histories: a replaced checkpoint, a consistent fake
 * tree signed with a fresh key, and rollbacks that only a checkpoint saved earlier can reveal. Also
 * `trailproof ledger audit` and the status route reporting the self-audit.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { formatCheckpoint, parseCheckpoint } from '../../src/ledger/checkpoint.ts';
import { commitment, newSalt } from '../../src/ledger/envelope.ts';
import { generateSignerKey, parseSignerKey, signNote } from '../../src/ledger/note.ts';
import { TEST_LEDGER_KEY } from '../helpers/app.ts';
import { killStartedProcesses, runCli } from '../helpers/server-process.ts';
import { ingestLog, rebuildDerived, resignAll, selfAudit, tamper, TENANT, verifyInProcess, verifyWithCli, type TamperLog } from './fixture.ts';

let log: TamperLog | undefined;
afterEach(async () => {
  await killStartedProcesses();
  await log?.t.close();
  log = undefined;
});

const origin = `test.trailproof/t/${TENANT}`;

describe('tampering with checkpoints and whole histories is detected and named', () => {
  it('a checkpoint replaced by one signed with another key: bad signature', async () => {
    log = await ingestLog();
    const size = log.checkpointSizes[4]!;
    await tamper(log, async (tx) => {
      const attacker = parseSignerKey(generateSignerKey(origin).signerKey);
      const note = signNote(formatCheckpoint({ origin, size, root: Buffer.alloc(32, 9) }), [attacker]);
      await tx`update ledger_checkpoints set note = ${note}, root = ${Buffer.alloc(32, 9)} where tenant_id = ${TENANT} and size = ${size}`;
    });
    const { code, report } = await verifyWithCli(log);
    expect(code).toBe(1);
    expect(report.first).toMatchObject({ kind: 'bad_signature', index: null, checkpoint_size: size });
    expect((await selfAudit(log)).first).toMatchObject({ kind: 'bad_signature', index: null });
  }, 120_000);

  it('a checkpoint whose root was altered under the genuine signature: bad signature', async () => {
    log = await ingestLog();
    const size = log.checkpointSizes[2]!;
    await tamper(log, async (tx) => {
      const [row] = await tx<{ note: string }[]>`select note from ledger_checkpoints where tenant_id = ${TENANT} and size = ${size}`;
      const lines = row!.note.split('\n');
      lines[2] = Buffer.alloc(32, 3).toString('base64');
      await tx`update ledger_checkpoints set note = ${lines.join('\n')} where tenant_id = ${TENANT} and size = ${size}`;
    });
    expect((await verifyInProcess(log)).first).toMatchObject({ kind: 'bad_signature', checkpoint_size: size });
    expect((await selfAudit(log)).first).toMatchObject({ kind: 'bad_signature' });
  }, 120_000);

  it('a whole consistent fake tree with a fresh key: bad signature, and forked against a saved checkpoint', async () => {
    log = await ingestLog();
    const l = log;
    await tamper(log, async (tx) => {
      // Rewrite an early event, then redo every leaf hash, tile, the head and every checkpoint.
      const [row] = await tx<{ body: Record<string, unknown> }[]>`select body from events where tenant_id = ${TENANT} and seq = 40`;
      const body = { ...row!.body, outcome: 'failure' };
      const salt = newSalt();
      await tx`update events set body = ${tx.json(body as never)}, salt = ${salt} where tenant_id = ${TENANT} and seq = 40`;
      await tx`update ledger_leaves set commitment = ${commitment(salt, body)} where tenant_id = ${TENANT} and seq = 40`;
      await rebuildDerived(tx);
      await resignAll(tx, origin);
    });
    const { code, report } = await verifyWithCli(l);
    expect(code).toBe(1);
    expect(report.first).toMatchObject({ kind: 'bad_signature' });
    expect(report.checkpoints.verified).toBe(0);
    // Internally consistent: no leaf contradicts itself, only the signatures give it away.
    expect(report.findings.every((f) => f.kind === 'bad_signature')).toBe(true);
    const since = await verifyWithCli(l, { since: l.saved });
    expect(since.code).toBe(1);
    expect(since.report.first).toMatchObject({ kind: 'forked', index: 0, range: [0, parseCheckpoint(l.saved.slice(0, l.saved.indexOf('\n\n') + 1)).size] });
    expect(since.report.since).toMatchObject({ ok: false });
    expect((await selfAudit(l)).first).toMatchObject({ kind: 'bad_signature' });
  }, 120_000);

  it('a rollback (tail and its checkpoints removed): only the saved checkpoint shows it, as truncated', async () => {
    log = await ingestLog();
    const l = log;
    const keep = l.checkpointSizes[6]!;
    await tamper(l, async (tx) => {
      for (const table of ['events', 'event_targets', 'ledger_leaves']) await tx`delete from ${tx(table)} where tenant_id = ${TENANT} and seq >= ${keep}`;
      await tx`delete from ledger_cosignatures where checkpoint_id in (select id from ledger_checkpoints where tenant_id = ${TENANT} and size > ${keep})`;
      await tx`delete from ledger_checkpoints where tenant_id = ${TENANT} and size > ${keep}`;
      await rebuildDerived(tx);
    });
    // Without a saved checkpoint this shorter log is self-consistent: nothing in it can show what is gone.
    expect((await verifyInProcess(l)).ok).toBe(true);
    const report = await verifyInProcess(l, { since: l.saved });
    expect(report.first).toMatchObject({ kind: 'truncated', index: keep, checkpoint_size: l.size });
  }, 120_000);

  it('`trailproof ledger audit` exits 1 naming the problem, and the status route reports the run', async () => {
    log = await ingestLog(3, 20);
    const env = { DATABASE_URL: log.t.db.url, TRAILPROOF_LEDGER_KEY: TEST_LEDGER_KEY };
    const clean = await runCli(['ledger', 'audit', '--tenant', TENANT, '--json'], env);
    expect(clean.code, clean.stderr).toBe(0);
    expect(JSON.parse(clean.stdout)).toMatchObject({ ok: true, tenants: { [TENANT]: { ok: true, size: log.size } } });
    await tamper(log, (tx) => tx`update events set body = jsonb_set(body, '{metadata,i}', '99') where tenant_id = ${TENANT} and seq = 7`.then(() => undefined));
    const found = await runCli(['ledger', 'audit', '--tenant', TENANT], env);
    expect(found.code).toBe(1);
    expect(found.stdout).toMatch(/acme: FAILED, \d+ leaves, \d+ checkpoints: modified at index 7/);
    const status = (await log.t.request('GET', `/v1/ledger/status?tenant=${TENANT}`)).json();
    expect(status.self_audit).toMatchObject({ ok: false, report: { ok: false, first: { kind: 'modified', index: 7 } } });
  }, 120_000);
});
