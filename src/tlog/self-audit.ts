/**
 * The ledger's self-audit: the server re-verifies itself (docs/bundle.md). Per tenant, it
 * streams the tenant's bundle from the database through the same engine as `trailproof verify`
 * (every commitment, leaf, root and checkpoint signature against the published verifier keys), and
 * also checks what the bundle does not carry: the stored leaf hashes and tile hashes (ledger_nodes,
 * what proofs and tiles are served from) against the recomputed ones, the head's size, root and
 * frontier, leaves beyond the head, events without a leaf, and the event rows' columns that reads
 * and searches use against the committed bodies (derived-columns.ts). Each run is a ledger_audit_runs
 * row whose report /v1/ledger/status shows; findings are logged at error level, never with payloads.
 */
import type { Logger } from 'pino';
import { bundleItems } from '../export/bundle.ts';
import { type Metrics, rowsGauge } from '../metrics.ts';
import { PeriodicJob } from '../periodic-job.ts';
import type { Sql } from '../store/db.ts';
import { BundleVerifier } from '../verify/bundle-verifier.ts';
import { firstFinding, type Finding, type PurgedRange } from '../verify/report.ts';
import { PURGE_ACTION } from '../event/lifecycle-records.ts';
import { TILE_HEIGHT } from '../ledger/tiles.ts';
import { checkDerivedColumns } from './derived-columns.ts';
import type { LedgerKeys } from './keys.ts';

export interface TenantAudit {
  /** Leaves checked. */
  size: number;
  ok: boolean;
  checkpoints: number;
  /** The finding with the smallest leaf index, or null. */
  first: (Pick<Finding, 'kind' | 'index' | 'detail'> & { range?: [number, number] }) | null;
  findings: number;
}

export interface AuditRun {
  id: number;
  started_at: string;
  finished_at: string;
  ok: boolean;
  tenants: Record<string, TenantAudit>;
}

export interface SelfAuditOptions {
  /** Only this tenant (default: every tenant). */
  tenant?: string;
  logger?: Logger;
}

/** Runs one audit of every tenant (or one), records it in ledger_audit_runs and returns it. */
export async function runSelfAudit(sql: Sql, keys: LedgerKeys, options: SelfAuditOptions = {}): Promise<AuditRun> {
  const [run] = await sql<{ id: number; started_at: Date }[]>`insert into ledger_audit_runs (started_at) values (now()) returning id, started_at`;
  const tenants =
    options.tenant === undefined
      ? (await sql<{ tenant_id: string }[]>`select tenant_id from ledger_heads order by tenant_id`).map((r) => r.tenant_id)
      : [options.tenant];
  const report: Record<string, TenantAudit> = {};
  for (const tenant of tenants) {
    const audit = await auditTenant(sql, keys, tenant);
    report[tenant] = audit;
    if (!audit.ok) options.logger?.error({ tenant, finding: audit.first, findings: audit.findings }, 'ledger self-audit: the stored ledger does not verify');
  }
  const ok = Object.values(report).every((t) => t.ok);
  const [done] = await sql<{ finished_at: Date }[]>`
    update ledger_audit_runs set finished_at = now(), ok = ${ok}, report = ${sql.json({ tenants: report } as never)}
    where id = ${run!.id} returning finished_at`;
  return { id: run!.id, started_at: run!.started_at.toISOString(), finished_at: done!.finished_at.toISOString(), ok, tenants: report };
}

/** One tenant: the bundle through the verifier, plus the stored hashes and head. */
export async function auditTenant(sql: Sql, keys: LedgerKeys, tenant: string): Promise<TenantAudit> {
  const findings: Finding[] = [];
  const [head] = await sql<{ size: number; root: Buffer; frontier: Buffer[] }[]>`select size, root, frontier from ledger_heads where tenant_id = ${tenant}`;
  if (!head) return { size: 0, ok: false, checkpoints: 0, first: { kind: 'missing', index: null, detail: 'the tenant has no ledger head' }, findings: 1 };

  /** Tile-level hashes recomputed from the leaves: n/256 of them, the only state that grows. */
  const nodes = new Map<string, Buffer>();
  let stored: Buffer | undefined;
  let headChecked = head.size === 0;
  const verifier: BundleVerifier = new BundleVerifier({
    keys: keys.verifierKeysFor(tenant),
    onLeaf: (index, leafHash) => {
      if (stored && !stored.equals(leafHash))
        findings.push({ kind: 'modified', index, line: 0, detail: "the stored leaf hash is not the hash of the leaf's envelope" });
      if (index + 1 === head.size) {
        headChecked = true;
        checkHead(verifier.root(), verifier.frontier(), head, findings);
      }
    },
    onNode: (node) => {
      if (node.level % TILE_HEIGHT === 0) nodes.set(`${node.level}/${node.index}`, node.hash);
    },
  });
  for await (const batch of bundleItems(sql, { tenant, origin: keys.origin(tenant), verifierKeys: [] })) {
    for (const item of batch) {
      stored = item.leaf?.storedHash;
      const bytes = Buffer.from(item.line);
      verifier.lineBytes(bytes, 0, bytes.length - 1);
    }
  }
  const report = verifier.finish();
  if (!headChecked)
    findings.push({ kind: 'truncated', index: report.leaves, line: 0, detail: `the head says ${head.size} leaves; ${report.leaves} are stored below it` });
  await checkStoredNodes(sql, tenant, nodes, report.leaves, findings);
  await checkStrayRows(sql, tenant, findings);
  const orphans = await checkRemovals(sql, tenant, report.purged_ranges, report.leaves, findings);
  // A row that disagrees with its body at or after a leaf the other checks already fault (or when
  // they fault no leaf: a signature) follows from that, e.g. a forged event stored without its
  // target rows: the first finding names the cause.
  const derived: Finding[] = [];
  await checkDerivedColumns(sql, tenant, derived);
  const others = [...report.findings.filter((f) => !explainedBy(orphans, f)), ...findings];
  const faulted = others.reduce((min, f) => Math.min(min, f.index ?? Number.NEGATIVE_INFINITY), Number.POSITIVE_INFINITY);
  const all = [...others, ...derived.filter((f) => f.index! < faulted)];
  const first = firstFinding(all);
  return {
    size: report.leaves,
    ok: all.length === 0,
    checkpoints: report.checkpoints.verified,
    first: first ? { kind: first.kind, index: first.index, detail: first.detail, ...(first.range ? { range: first.range } : {}) } : null,
    findings: all.length,
  };
}

function checkHead(root: Buffer, frontier: Buffer[], head: { size: number; root: Buffer; frontier: Buffer[] }, findings: Finding[]): void {
  const frontierOk = frontier.length === head.frontier.length && frontier.every((hash, i) => hash.equals(head.frontier[i]!));
  if (!root.equals(head.root) || !frontierOk) {
    findings.push({
      kind: 'modified',
      index: null,
      line: 0,
      detail: `the head's ${root.equals(head.root) ? 'frontier' : 'root'} is not that of the stored leaves at size ${head.size}`,
    });
  }
}

/** Stored tile hashes against recomputed ones, in keyset batches; only nodes the audited leaves complete. */
async function checkStoredNodes(sql: Sql, tenant: string, recomputed: Map<string, Buffer>, size: number, findings: Finding[]): Promise<void> {
  let after = { level: 0, idx: -1 };
  const seen = new Set<string>();
  for (;;) {
    const rows = await sql<{ level: number; idx: number; hash: Buffer }[]>`
      select level, idx, hash from ledger_nodes where tenant_id = ${tenant} and (level, idx) > (${after.level}, ${after.idx})
      order by level, idx limit 5000`;
    if (rows.length === 0) break;
    for (const row of rows) {
      const width = 2 ** row.level;
      const range: [number, number] = [row.idx * width, (row.idx + 1) * width];
      if (range[1] > size) continue; // completed by leaves appended after this audit's snapshot
      const key = `${row.level}/${row.idx}`;
      seen.add(key);
      const expected = recomputed.get(key);
      if (!expected?.equals(row.hash)) {
        findings.push({
          kind: 'modified',
          index: range[0],
          range,
          line: 0,
          detail: `the stored tile hash at level ${row.level}, index ${row.idx} is not the hash of its leaves`,
        });
      }
    }
    after = { level: rows.at(-1)!.level, idx: rows.at(-1)!.idx };
  }
  for (const key of recomputed.keys()) {
    if (seen.has(key)) continue;
    const [level, idx] = key.split('/').map(Number) as [number, number];
    const range: [number, number] = [idx * 2 ** level, (idx + 1) * 2 ** level];
    findings.push({ kind: 'missing', index: range[0], range, line: 0, detail: `the tile hash at level ${level}, index ${idx} is not stored` });
  }
}

/** Leaves at or beyond the head, and events without their leaf: rows no signed tree accounts for. */
async function checkStrayRows(sql: Sql, tenant: string, findings: Finding[]): Promise<void> {
  const [beyond] = await sql<{ seq: number | null }[]>`
    select min(l.seq) as seq from ledger_leaves l
    where l.tenant_id = ${tenant} and l.seq >= (select size from ledger_heads where tenant_id = ${tenant})`;
  if (beyond?.seq != null) findings.push({ kind: 'inserted', index: Number(beyond.seq), line: 0, detail: 'a leaf is stored beyond the head of the tree' });
  const [orphan] = await sql<{ seq: number }[]>`
    select e.seq from events e
    where e.tenant_id = ${tenant}
      and not exists (select 1 from ledger_leaves l where l.tenant_id = e.tenant_id and l.seq = e.seq and l.occurred_at = e.occurred_at)
    order by e.seq limit 1`;
  if (orphan) findings.push({ kind: 'inserted', index: Number(orphan.seq), line: 0, detail: 'an event is stored without its leaf in the tree' });
}

/**
 * The database's log of removals (payload_removals) against the purge records the verifier read:
 * a removal whose record is gone from the trail, or payloads gone from a record's range that the
 * removal function never acted on. Returns the removals whose record is gone.
 */
async function checkRemovals(sql: Sql, tenant: string, ranges: PurgedRange[], size: number, findings: Finding[]): Promise<Removal[]> {
  const logged = await sql<{ record_seq: number; range_start: number; range_end: number }[]>`
    select record_seq, range_start, range_end from payload_removals
    where tenant_id = ${tenant} and action = ${PURGE_ACTION} and record_seq < ${size} order by record_seq`;
  const read = new Map(ranges.map((r) => [r.record, r]));
  const orphans: Removal[] = [];
  for (const row of logged) {
    const record = read.get(Number(row.record_seq));
    if (!record) {
      orphans.push({ record: Number(row.record_seq), range: [Number(row.range_start), Number(row.range_end)] });
      findings.push({
        kind: 'missing',
        index: Number(row.record_seq),
        line: 0,
        detail: `the purge record at index ${row.record_seq} that the database removed payloads for is gone from the trail`,
      });
    } else if (record.range[0] !== Number(row.range_start) || record.range[1] !== Number(row.range_end)) {
      findings.push({
        kind: 'policy_violation',
        index: record.record,
        line: 0,
        detail: `purge record ${record.record} covers [${record.range[0]}, ${record.range[1]}); the database removed for [${row.range_start}, ${row.range_end})`,
      });
    }
  }
  const acted = new Set(logged.map((r) => Number(r.record_seq)));
  for (const record of ranges) {
    if (record.removed > 0 && !acted.has(record.record)) {
      findings.push({
        kind: 'policy_violation',
        index: record.range[0],
        range: record.range,
        line: 0,
        detail: `payloads are gone from the range of purge record ${record.record}, which the database never removed for`,
      });
    }
  }
  return orphans;
}

/** A removal the database logged: the record's index and the range it covered. */
interface Removal {
  record: number;
  range: [number, number];
}

/**
 * Whether a verifier finding of missing payloads is the trace of a removal whose record is gone:
 * the leaf of the record itself, or payloads in its range. The removal's own finding names it.
 */
function explainedBy(orphans: Removal[], f: Finding): boolean {
  if (f.kind !== 'missing' || f.index === null) return false;
  const [start, end] = f.range ?? [f.index, f.index + 1];
  return orphans.some((o) => (start === o.record && end === o.record + 1) || (start >= o.range[0] && end <= o.range[1]));
}

export interface SelfAuditorOptions {
  /** Between runs; 0 disables the job. */
  intervalMs: number;
  /** Before the first run after start. */
  initialDelayMs: number;
  logger?: Logger;
}

/**
 * The background job: a run after `initialDelayMs`, then every `intervalMs`. With several server
 * processes on one database, a process skips its turn when another run started within the interval.
 */
export class SelfAuditor {
  readonly #sql: Sql;
  readonly #keys: LedgerKeys;
  readonly #options: SelfAuditorOptions;
  readonly #job: PeriodicJob;

  constructor(sql: Sql, keys: LedgerKeys, options: SelfAuditorOptions) {
    this.#sql = sql;
    this.#keys = keys;
    this.#options = options;
    this.#job = new PeriodicJob(() => this.#tick(), {
      intervalMs: options.intervalMs,
      initialDelayMs: options.initialDelayMs,
      onError: (err) => options.logger?.error({ err }, 'ledger self-audit failed to run'),
    });
  }

  start(): void {
    this.#job.start();
  }

  stop(): Promise<void> {
    return this.#job.stop();
  }

  async #tick(): Promise<void> {
    const [recent] = await this.#sql<{ id: number }[]>`
      select id from ledger_audit_runs where started_at > now() - make_interval(secs => ${(this.#options.intervalMs * 0.9) / 1000}) limit 1`;
    if (recent) return;
    const run = await runSelfAudit(this.#sql, this.#keys, this.#options.logger ? { logger: this.#options.logger } : {});
    this.#options.logger?.info({ run: run.id, ok: run.ok, tenants: Object.keys(run.tenants).length }, 'ledger self-audit finished');
  }
}

/**
 * The newest finished self-audit (any process's, or `trailproof ledger audit`'s), read from the
 * database at each scrape: when it finished, and how many tenants' ledgers failed it.
 */
export function selfAuditMetrics(sql: Sql, metrics: Metrics): void {
  const rows = metrics.read(
    async () => sql<{ finished: number; failed: number }[]>`
      select extract(epoch from finished_at)::float8 as finished,
             (select count(*) from jsonb_each(report->'tenants') t where (t.value->>'ok')::boolean is not true)::int as failed
      from ledger_audit_runs where finished_at is not null order by id desc limit 1`,
  );
  rowsGauge(metrics, {
    name: 'trailproof_self_audit_last_run_timestamp_seconds',
    help: 'When the newest ledger self-audit finished (Unix time; 0: none yet)',
    rows,
    value: (row) => row.finished,
  });
  rowsGauge(metrics, {
    name: 'trailproof_self_audit_failed_tenants',
    help: 'Tenants whose stored ledger did not verify in the newest self-audit (0: all verified)',
    rows,
    value: (row) => row.failed,
  });
}
