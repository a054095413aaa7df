/**
 * The tamper suite's fixture: a tenant's trail ingested through the real API with checkpoints
 * issued along the way, and an attacker who edits the database directly as a superuser with the
 * append-only triggers bypassed (`session_replication_role = replica`). The thorough attacker also
 * recomputes everything derived (leaf hashes, tile hashes, head) with the ledger's own library.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { formatCheckpoint } from '../../src/ledger/checkpoint.ts';
import { eventLeafHash } from '../../src/ledger/envelope.ts';
import { appendLeaves } from '../../src/ledger/merkle.ts';
import { generateSignerKey, parseSignerKey, signNote } from '../../src/ledger/note.ts';
import { bundleText } from '../../src/export/bundle.ts';
import type { TxSql } from '../../src/store/db.ts';
import { Checkpointer } from '../../src/tlog/checkpointer.ts';
import { runSelfAudit, type TenantAudit } from '../../src/tlog/self-audit.ts';
import { BundleVerifier } from '../../src/verify/bundle-verifier.ts';
import type { VerifyReport } from '../../src/verify/report.ts';
import { createTestApp, TEST_LEDGER_KEY, type TestApp } from '../helpers/app.ts';
import { runCli } from '../helpers/server-process.ts';

export const TENANT = 'acme';

export interface TamperLog {
  t: TestApp;
  /** The tenant's verifier key, as GET /v1/ledger/key?tenant= publishes it. */
  key: string;
  /** Tree size after ingest, and the sizes of the checkpoints issued. */
  size: number;
  checkpointSizes: number[];
  /** The newest checkpoint as served before any tampering (what a careful user saved). */
  saved: string;
}

/** `rounds` batches of `perRound` events through POST /v1/events, a checkpoint after each. */
export async function ingestLog(rounds = 10, perRound = 30): Promise<TamperLog> {
  const t = await createTestApp();
  await t.createTenant(TENANT);
  const ingestKey = await t.createKey('ingest', TENANT);
  const checkpointer = new Checkpointer(t.db.sql, t.services.ledgerKeys, { minIntervalMs: 0 });
  const checkpointSizes: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const events = Array.from({ length: perRound }, (_, i) => ({
      action: i % 3 === 0 ? 'user.login_failed' : 'document.read',
      actor: { type: 'user', id: `user-${(round * perRound + i) % 17}`, name: 'Zoë' },
      targets: [{ type: 'document', id: `doc-${i % 5}` }],
      metadata: { round, i },
    }));
    const res = await t.request('POST', '/v1/events', { key: ingestKey, body: { events } });
    if (res.statusCode !== 200) throw new Error(`ingest: ${res.statusCode} ${res.body}`);
    checkpointSizes.push((await checkpointer.issue(TENANT)).size);
  }
  const key = (await t.app.inject({ method: 'GET', url: `/v1/ledger/key?tenant=${TENANT}` })).body.trim().split('\n')[0]!;
  const saved = (await t.request('GET', `/t/${TENANT}/checkpoint`)).body;
  return { t, key, size: checkpointSizes.at(-1)!, checkpointSizes, saved };
}

/** Runs `edit` as the database owner with every append-only trigger off, in one transaction. */
export async function tamper(log: TamperLog, edit: (tx: TxSql) => Promise<void>): Promise<void> {
  await log.t.db.ownerSql.begin(async (tx) => {
    await tx`set local session_replication_role = replica`;
    await edit(tx);
  });
}

/** Shifts leaves, events and targets with seq ≥ `from` by `by` (two steps, so no key ever collides). */
export async function shiftSeq(tx: TxSql, from: number, by: number): Promise<void> {
  for (const table of ['ledger_leaves', 'events', 'event_targets']) {
    await tx`update ${tx(table)} set seq = -seq - 1 where tenant_id = ${TENANT} and seq >= ${from}`;
    await tx`update ${tx(table)} set seq = -seq - 1 + ${by} where tenant_id = ${TENANT} and seq < 0`;
  }
}

/** Sets the seq of one event (leaf, event row, targets) from `from` to `to`. */
export async function moveSeq(tx: TxSql, from: number, to: number): Promise<void> {
  for (const table of ['ledger_leaves', 'events', 'event_targets']) {
    await tx`update ${tx(table)} set seq = ${to} where tenant_id = ${TENANT} and seq = ${from}`;
  }
}

/** The thorough attacker: leaf hashes, tile hashes and head recomputed from the leaves as they now are. */
export async function rebuildDerived(tx: TxSql): Promise<{ size: number }> {
  const leaves = await tx<{ seq: number; uid: string; received_at: Date; commitment: Buffer }[]>`
    select seq, uid, received_at, commitment from ledger_leaves where tenant_id = ${TENANT} order by seq`;
  const hashes = leaves.map((l) =>
    eventLeafHash({ tenant: TENANT, index: l.seq, uid: l.uid, received_at: l.received_at.toISOString(), commitment: l.commitment }),
  );
  await tx`
    update ledger_leaves l set leaf_hash = decode(x.h, 'hex')
    from unnest(${leaves.map((l) => l.seq)}::int8[], ${hashes.map((h) => h.toString('hex'))}::text[]) as x(s, h)
    where l.tenant_id = ${TENANT} and l.seq = x.s`;
  const tree = appendLeaves(0, [], hashes);
  await tx`delete from ledger_nodes where tenant_id = ${TENANT}`;
  for (const node of tree.nodes.filter((n) => n.level % 8 === 0)) {
    await tx`insert into ledger_nodes (tenant_id, level, idx, hash) values (${TENANT}, ${node.level}, ${node.index}, ${node.hash})`;
  }
  const frontier = tree.frontier.map((h) => h.toString('hex'));
  await tx`
    update ledger_heads set size = ${tree.size}, root = ${tree.root},
      frontier = coalesce((select array_agg(decode(f, 'hex') order by n) from unnest(${frontier}::text[]) with ordinality as x(f, n)), '{}')
    where tenant_id = ${TENANT}`;
  return { size: tree.size };
}

/** Replaces every checkpoint by one of the same size over the current tree, signed by a fresh key. */
export async function resignAll(tx: TxSql, origin: string): Promise<void> {
  const attacker = parseSignerKey(generateSignerKey(origin).signerKey);
  const rows = await tx<{ id: number; size: number }[]>`select id, size from ledger_checkpoints where tenant_id = ${TENANT} order by id`;
  const leafHashes = (await tx<{ leaf_hash: Buffer }[]>`select leaf_hash from ledger_leaves where tenant_id = ${TENANT} order by seq`).map((r) => r.leaf_hash);
  for (const row of rows) {
    const { root } = appendLeaves(0, [], leafHashes.slice(0, row.size));
    const note = signNote(formatCheckpoint({ origin, size: row.size, root }), [attacker]);
    await tx`update ledger_checkpoints set note = ${note}, root = ${root}, key_id = ${attacker.keyId.toString(16).padStart(8, '0')} where id = ${row.id}`;
  }
}

/** The bundle through the writer in-process, verified by the engine in-process. */
export async function verifyInProcess(log: TamperLog, options: { since?: string } = {}): Promise<VerifyReport> {
  const { t } = log;
  const verifier = new BundleVerifier({ keys: [log.key], ...options });
  let text = '';
  for await (const chunk of bundleText(t.db.sql, {
    tenant: TENANT,
    origin: t.services.ledgerKeys.origin(TENANT),
    verifierKeys: t.services.ledgerKeys.verifierKeysFor(TENANT),
  }))
    text += chunk;
  for (const line of text.trimEnd().split('\n')) verifier.line(line);
  return verifier.finish();
}

/** `trailproof export` then `trailproof verify --json` as real processes; the report and the exit code. */
export async function verifyWithCli(log: TamperLog, options: { since?: string } = {}): Promise<{ code: number | null; report: VerifyReport }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-tamper-'));
  const bundle = path.join(dir, 'acme.tpbundle.jsonl');
  const env = { DATABASE_URL: log.t.db.url, TRAILPROOF_LEDGER_KEY: TEST_LEDGER_KEY };
  const exported = await runCli(['export', '--tenant', TENANT, '--format', 'bundle', '--out', bundle], env);
  if (exported.code !== 0) throw new Error(`export failed: ${exported.stderr}`);
  const args = ['verify', bundle, '--key', log.key, '--json'];
  if (options.since) {
    fs.writeFileSync(path.join(dir, 'saved.checkpoint'), options.since);
    args.push('--since-checkpoint', path.join(dir, 'saved.checkpoint'));
  }
  const verified = await runCli(args, {});
  fs.rmSync(dir, { recursive: true, force: true });
  if (verified.code === 2) throw new Error(`verify could not run: ${verified.stderr}`);
  return { code: verified.code, report: JSON.parse(verified.stdout) as VerifyReport };
}

/** One self-audit run of the tenant, as the background job does it. */
export async function selfAudit(log: TamperLog): Promise<TenantAudit> {
  const run = await runSelfAudit(log.t.db.sql, log.t.services.ledgerKeys, { tenant: TENANT });
  return run.tenants[TENANT]!;
}
